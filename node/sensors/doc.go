// Package sensors produces realistic, reproducible vital signs for emulated
// medical motes: heart rate, SpO2 and body temperature as smooth signals of
// time, an ECG-like waveform at its own sample rate, scripted clinical
// episodes (tachycardia, bradycardia, desaturation, fever) and alarms with
// hysteresis when thresholds are crossed.
//
// Everything is deterministic under a seed. Vitals(t) is a pure function of
// the seed, the scenario and t: two patients with the same seed agree at
// every instant however often they are sampled. The ECG is a stream (beat
// timing depends on the heart rate history) and is deterministic for the
// same seed and the same sequence of reads.
//
// The heart-rate and SpO2 signals are baselines plus band-limited value
// noise and respiratory sinus arrhythmia; the ECG beat is a sum of Gaussian
// waves P, Q, R, S, T placed by phase within each RR interval, the shape
// used by McSharry et al., "A dynamical model for generating synthetic
// electrocardiogram signals", IEEE Trans. Biomed. Eng. 50(3), 2003.
//
// The sensor names (PulseOximeter, Thermometer, ECGFrontEnd) match the
// sensors of node/profile, so a node charges its energy.Meter with
// meter.Sample(sensors.PulseOximeter) for each reading.
//
// Record is the compact binary form a node publishes (Vitals.AppendBinary,
// ParseRecord).
package sensors
