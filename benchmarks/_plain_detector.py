"""The plain detector the benchmarks compare calfwatch with, as a script run in its own process:
MNE reads the EDF, one sosfilt cascade (20-450 Hz band-pass and mains notches), 5 x MAD threshold,
upward crossings. Arguments: the recording and the TSV of onsets to write."""

PLAIN = """
import sys
import mne, numpy as np
from scipy import signal
path, out = sys.argv[1], sys.argv[2]
raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
x = raw.get_data() * 1e6
fs = raw.info["sfreq"]
sos = [signal.butter(4, [20, 450], "bandpass", fs=fs, output="sos")]
for h in range(50, int(fs / 2), 50):
    b, a = signal.iirnotch(h, 60.0, fs=fs)
    sos.append(signal.tf2sos(b, a))
y = signal.sosfilt(np.concatenate(sos), x, axis=1)
with open(out, "w") as f:
    f.write("onset\\tchannel\\n")
    for c, name in enumerate(raw.ch_names):
        thr = 5 * np.median(np.abs(y[c])) / 0.6745
        above = np.abs(y[c]) > thr
        onsets = np.flatnonzero(above[1:] & ~above[:-1]) + 1
        f.writelines(f"{i / fs:.6f}\\t{name}\\n" for i in onsets)
"""
