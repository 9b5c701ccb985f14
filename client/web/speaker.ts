/// <reference lib="dom" />
// Spoken answers on a WebRTC call: the server's audio track plays in an <audio> element, and a speaker
// toggle mutes it and tells the server whether to speak at all (output_modalities ['audio'] or ['text']).
// The element also carries what was received (data-packets, data-audible-ms, data-peak), read by the
// browser test and handy when debugging a silent speaker.

/** A 20 ms window whose RMS is above this counts as audible (speech is ~0.05-0.3; comfort noise far below). */
const AUDIBLE_RMS = 0.01;
const METER_INTERVAL_MS = 20;
const STATS_INTERVAL_MS = 250;

export class Speaker {
  private on = false;
  private context: AudioContext | null = null;
  private timers: ReturnType<typeof setInterval>[] = [];
  private audibleMs = 0;
  private peak = 0;

  constructor(
    private readonly button: HTMLButtonElement,
    private readonly audio: HTMLAudioElement,
  ) {
    this.render();
  }

  get isOn(): boolean {
    return this.on;
  }

  setOn(on: boolean): void {
    this.on = on;
    this.render();
  }

  /** The call's remote audio: play it (muted while the speaker is off) and measure what arrives. */
  attach(stream: MediaStream, pc: RTCPeerConnection): void {
    this.detach();
    this.audibleMs = 0;
    this.peak = 0;
    this.audio.srcObject = stream;
    void this.audio.play().catch(() => undefined); // autoplay refused: the next click on the page plays it
    this.startMeter(stream);
    this.timers.push(setInterval(() => void this.readStats(pc), STATS_INTERVAL_MS));
  }

  detach(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    void this.context?.close();
    this.context = null;
    this.audio.srcObject = null;
  }

  private render(): void {
    this.audio.muted = !this.on;
    this.button.setAttribute('aria-pressed', String(this.on));
    this.button.textContent = this.on ? 'Speaker on' : 'Speaker off';
  }

  private startMeter(stream: MediaStream): void {
    const context = new AudioContext();
    this.context = context;
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024; // ~21 ms at 48 kHz: one window per poll
    context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    let last = performance.now();
    this.timers.push(
      setInterval(() => {
        const now = performance.now();
        const elapsedMs = Math.min(now - last, 3 * METER_INTERVAL_MS);
        last = now;
        analyser.getFloatTimeDomainData(samples);
        let energy = 0;
        for (const s of samples) energy += s * s;
        const rms = Math.sqrt(energy / samples.length);
        this.peak = Math.max(this.peak, rms);
        if (rms > AUDIBLE_RMS) this.audibleMs += elapsedMs;
        this.audio.dataset.audibleMs = String(Math.round(this.audibleMs));
        this.audio.dataset.peak = this.peak.toFixed(4);
      }, METER_INTERVAL_MS),
    );
  }

  private async readStats(pc: RTCPeerConnection): Promise<void> {
    const stats = await pc.getStats().catch(() => null);
    stats?.forEach((report: { type: string; kind?: string; packetsReceived?: number }) => {
      if (report.type === 'inbound-rtp' && report.kind === 'audio')
        this.audio.dataset.packets = String(report.packetsReceived ?? 0);
    });
  }
}
