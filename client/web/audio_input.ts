/// <reference lib="dom" />
// Microphone choice and input level for the page: the picker lists audio inputs, the meter shows the RMS
// level of what the chosen microphone hears, so a user sees at once whether audio is getting through.

export async function listMicrophones(select: HTMLSelectElement): Promise<void> {
  const devices = await navigator.mediaDevices.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
  const inputs = devices.filter((d) => d.kind === 'audioinput');
  const current = select.value;
  select.replaceChildren(
    new Option('Default microphone', ''),
    ...inputs
      .filter((d) => d.deviceId !== 'default' && d.deviceId !== '')
      .map((d, i) => new Option(d.label || `Microphone ${i + 1}`, d.deviceId)),
  );
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

/** How often the meter reads the level, ms: enough for the eye, cheap next to the audio capture. */
const METER_INTERVAL_MS = 100;

/**
 * Drives a <meter> (0..1) from a stream's RMS level until stop(). Reuses the capture's AudioContext when
 * there is one: a second context competes with the capture worklet for the audio thread.
 */
export function meterLevel(stream: MediaStream, meter: HTMLMeterElement, shared?: AudioContext): { stop(): void } {
  const context = shared ?? new AudioContext();
  meter.dataset.peak = '0';
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  const source = context.createMediaStreamSource(stream);
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    // RMS on a dB scale from -60 dBFS (0) to 0 dBFS (1): speech sits around 0.5-0.8.
    const db = 10 * Math.log10(sum / samples.length + 1e-12);
    meter.value = Math.max(0, Math.min(1, (db + 60) / 60));
    // The loudest level since the microphone opened, for a glance (and tests) after speech has passed.
    meter.dataset.peak = String(Math.max(Number(meter.dataset.peak ?? 0), meter.value));
  }, METER_INTERVAL_MS);
  if (!shared) void context.resume();
  return {
    stop: () => {
      clearInterval(timer);
      source.disconnect();
      meter.value = 0;
      if (!shared) void context.close();
    },
  };
}
