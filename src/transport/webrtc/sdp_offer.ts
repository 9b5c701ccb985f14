/**
 * A call needs one audio and one data-channel section. Each section of an unbundled offer costs the server
 * an ICE transport (a UDP socket per gathered address, held until the connect timeout), so without a cap a
 * 64 KiB offer of ~100 sections would hold ~100 sockets per call.
 */
export const MAX_MEDIA_SECTIONS = 8;

export type OfferCheck = { ok: true; hasAudio: boolean } | { ok: false; message: string };

/**
 * Structural check of an SDP offer before werift sees it: werift's parser accepts almost any text, and a
 * garbage offer should be a clear 400 rather than a call that can never connect.
 */
export function checkOffer(sdp: string): OfferCheck {
  const lines = sdp
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
  if (lines[0] !== 'v=0') return { ok: false, message: 'The body is not an SDP offer: it must start with "v=0".' };
  const malformed = lines.find((line) => !/^[a-z]=/.test(line));
  if (malformed) return { ok: false, message: `Malformed SDP line: "${malformed.slice(0, 60)}".` };
  if (!lines.some((line) => line.startsWith('o=')))
    return { ok: false, message: 'The SDP offer has no origin (o=) line.' };
  const media = lines.filter((line) => line.startsWith('m='));
  if (media.length === 0) return { ok: false, message: 'The SDP offer has no media sections (m= lines).' };
  if (media.length > MAX_MEDIA_SECTIONS) {
    return {
      ok: false,
      message: `The SDP offer has ${media.length} media sections; at most ${MAX_MEDIA_SECTIONS} are accepted (a call needs one audio and one data channel).`,
    };
  }
  if (!media.some((line) => /^m=application \d+ [A-Z/]*SCTP/.test(line))) {
    return {
      ok: false,
      message:
        'The SDP offer has no data channel (m=application ... SCTP); events travel on the "oai-events" data channel.',
    };
  }
  if (!lines.some((line) => line.startsWith('a=ice-ufrag:')) || !lines.some((line) => line.startsWith('a=ice-pwd:'))) {
    return { ok: false, message: 'The SDP offer has no ICE credentials (a=ice-ufrag / a=ice-pwd).' };
  }
  if (!lines.some((line) => line.startsWith('a=fingerprint:')))
    return { ok: false, message: 'The SDP offer has no DTLS fingerprint.' };
  return { ok: true, hasAudio: media.some((line) => line.startsWith('m=audio ')) };
}
