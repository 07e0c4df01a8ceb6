"""The kernels' cold start: the signatures :mod:`dsp.warmup` compiles ahead are exactly those a
chain compiles (none missed, none wasted), a helper process puts its share on disk, and a kernel
module's share stays whole."""

from __future__ import annotations

import os
import subprocess
import sys

from dsp.warmup import COMPILE_S, MODULES, chain_signatures, share_out

#: Runs short chains of ``n`` channels (warm_up's whole input and 0.1-s chunks, and a
#: default-config chain fed in odd chunks), then prints what was compiled and what is declared.
COMPILED = """
import sys
from dsp.chain import DetectionChain
from dsp.warmup import _signal, chain_kernels, chain_signatures, warm_up
n = int(sys.argv[1])
warm_up((n,))
x = _signal(n, 2000.0, 12.0)
chain = DetectionChain(2000.0, n, None)
for a in range(0, x.shape[1], 777):
    chain.process(x[:, a : a + 777], a)
chain.flush()
compiled = {(k.py_func.__module__.split(".")[1], k.__name__, str(s))
            for k in chain_kernels(n) for s in k.signatures}
declared = {(m, k, str(s)) for m, k, s in chain_signatures(n)}
print(sorted(compiled - declared))
print(sorted(declared - compiled))
"""


def _compiled_and_declared(n_channels: int) -> tuple[str, str]:
    proc = subprocess.run([sys.executable, "-c", COMPILED, str(n_channels)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    not_declared, not_compiled = proc.stdout.splitlines()[-2:]
    return not_declared, not_compiled


def test_a_one_channel_chain_compiles_exactly_the_signatures_declared_ahead():
    not_declared, not_compiled = _compiled_and_declared(1)
    assert not_declared == "[]", f"compiled by a chain, not prepared ahead: {not_declared}"
    assert not_compiled == "[]", f"prepared ahead, never used by a chain: {not_compiled}"


def test_several_channels_use_every_signature_declared_ahead():
    # (their buffers' views are strided or not depending on the chunks; the filter may compile
    # a further layout at its first call)
    not_declared, not_compiled = _compiled_and_declared(2)
    assert not_compiled == "[]", f"prepared ahead, never used by a chain: {not_compiled}"
    assert "_detect_numba" not in not_declared and "_noise_numba" not in not_declared


MISSING = """
from dsp.warmup import missing
print(sorted({m for m, _, _ in missing(1)}))
"""


def test_a_helper_process_puts_its_modules_on_disk(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    before = subprocess.run([sys.executable, "-c", MISSING], capture_output=True, text=True,
                            env=env, timeout=300)
    assert before.stdout.split() and "_features_numba" in before.stdout, before.stderr
    proc = subprocess.run([sys.executable, "-m", "dsp.warmup", "--channels", "1", "--compile",
                           "_features_numba"], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    after = subprocess.run([sys.executable, "-c", MISSING], capture_output=True, text=True,
                           env=env, timeout=300)
    left = eval(after.stdout)  # a list of module names
    assert "_features_numba" not in left
    assert set(left) == set(eval(before.stdout)) - {"_features_numba"}


def test_modules_are_shared_out_whole_and_balanced():
    loads = {}
    for module, name, _ in chain_signatures(2):
        loads[module] = loads.get(module, 0.0) + COMPILE_S[name]
    parts = share_out(loads, 2)
    assert sorted(m for p in parts for m in p) == sorted(loads)
    totals = [sum(loads[m] for m in p) for p in parts]
    assert totals[0] >= totals[1]  # the heaviest share for the calling process
    assert totals[0] - totals[1] <= max(loads.values())
    assert share_out(loads, 1) == [sorted(loads, key=lambda m: -loads[m])]
    many = share_out(loads, 9)  # as many processes as wished: the heaviest module alone sets the wait
    assert max(sum(loads[m] for m in p) for p in many) == max(loads.values())
    assert len(many) <= len(loads)
    assert set(COMPILE_S) == {k for _, k, _ in chain_signatures(1) + chain_signatures(2)}
    assert set(MODULES) == set(loads)


EARLY = """
from dsp.warmup import missing, prepare, start_early, started_early
print(not missing(1), start_early(1), started_early(), prepare(1), started_early(), missing(1))
"""


def test_early_helpers_are_waited_for_and_none_start_on_a_warm_cache(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    cold = subprocess.run([sys.executable, "-c", EARLY], capture_output=True, text=True,
                          env=env, timeout=600)
    assert cold.stdout.split() == ["False", "True", "True", "True", "False", "[]"], cold.stderr
    warm = subprocess.run([sys.executable, "-c", EARLY], capture_output=True, text=True,
                          env=env, timeout=300)
    assert warm.stdout.split() == ["True", "False", "False", "False", "False", "[]"], warm.stderr
