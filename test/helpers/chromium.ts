// Debian's Chromium for the browser tests: headless, no network of its own, and a fake microphone that
// plays a WAV file once (the same speech the other transports are fed).
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_PATH } from './webrtc_opus_fixtures.ts';

export function launchChromiumWithMicrophone(wavPath: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wavPath}%noloop`,
      '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}
