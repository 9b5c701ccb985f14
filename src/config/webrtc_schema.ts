import { z } from 'zod';

// Options of the WebRTC transport (POST /v1/realtime/calls). The integrator mounts this schema in
// schema.ts as `webrtc`, so keys follow that file's conventions: snake_case, units in names.

const positiveInt = () => z.number().int().positive();

export const webrtcConfigSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('Serve POST /v1/realtime/calls (WebRTC calls). When false the route answers 404.'),
    stun_servers: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'STUN servers as `stun:host:port` URLs, for a server behind NAT. None by default: loopback and LAN calls need none, and an unreachable server adds seconds to every call.',
      ),
    ice_host_addresses: z
      .array(z.string().min(1))
      .default(['127.0.0.1'])
      .describe(
        'Extra host addresses offered as ICE candidates (loopback is not gathered otherwise; add a public address for 1:1 NAT).',
      ),
    ice_gather_interfaces: z
      .boolean()
      .default(true)
      .describe(
        "Also offer the machine's IPv4 interface addresses as candidates. Turn off to offer only ice_host_addresses.",
      ),
    ice_use_ipv6: z.boolean().default(false).describe('Offer IPv6 interface addresses as candidates too.'),
    ice_port_min: z
      .number()
      .int()
      .min(1024)
      .max(65535)
      .optional()
      .describe('Lowest UDP port for ICE (with ice_port_max), for firewalls.'),
    ice_port_max: z
      .number()
      .int()
      .min(1024)
      .max(65535)
      .optional()
      .describe('Highest UDP port for ICE (with ice_port_min).'),
    max_calls: positiveInt().default(32).describe('Concurrent WebRTC calls; more are refused with HTTP 503.'),
    max_offer_bytes: positiveInt()
      .default(64 * 1024)
      .describe('Largest SDP offer accepted, in bytes (a browser offer is 2-6 KiB).'),
    offer_read_timeout_ms: positiveInt()
      .default(10_000)
      .describe(
        "Time an SDP offer upload may take, in ms; past it the request gets 408 and its call slot is freed (a slow upload would otherwise hold a slot until Node's 5-minute request timeout).",
      ),
    connect_timeout_ms: positiveInt()
      .default(15_000)
      .describe(
        'Time from the answer until the data channel must be open, in ms; a peer that never connects is hung up and its session disposed.',
      ),
    disconnect_timeout_ms: positiveInt()
      .default(5_000)
      .describe(
        'How long a call may stay ICE-disconnected before it is hung up, in ms (short network blips recover within it).',
      ),
    idle_timeout_ms: positiveInt()
      .default(30_000)
      .describe(
        'A connected call that receives neither RTP nor data-channel messages for this long is hung up, in ms (browsers send audio continuously, so silence here means the peer is gone).',
      ),
    jitter_buffer_packets: z
      .number()
      .int()
      .min(0)
      .max(50)
      .default(3)
      .describe(
        'RTP packets held to reorder late arrivals before a missing one is declared lost and concealed (3 x 20 ms = up to 60 ms added delay on loss, none otherwise).',
      ),
    jitter_max_wait_ms: positiveInt()
      .default(80)
      .describe(
        'Longest time a packet waits in the reorder buffer for a missing predecessor, in ms, when no further packets arrive.',
      ),
    max_conceal_ms: positiveInt()
      .default(2_000)
      .describe(
        'Longest gap in the RTP timeline filled with concealment or silence, in ms; a larger jump (sender restart) is treated as a new timeline.',
      ),
    max_queued_events: positiveInt()
      .default(256)
      .describe('Server events queued while the data channel is not open yet; a call that overflows it is hung up.'),
    max_outbound_buffered_bytes: positiveInt()
      .default(8 * 1024 * 1024)
      .describe(
        'Bytes queued on the data channel for a slow peer before its call is hung up, so one stalled reader cannot hold memory.',
      ),
    output_buffer_max_seconds: z
      .number()
      .positive()
      .max(600)
      .default(120)
      .describe(
        'Spoken-answer audio held per call waiting to be played, in seconds of audio. The session writes speech faster than real time; audio written past this bound is dropped (logged, counted in the call stats) rather than held in memory.',
      ),
    output_frame_ms: z
      .union([z.literal(10), z.literal(20), z.literal(40), z.literal(60)])
      .default(20)
      .describe('Duration of each outbound Opus RTP frame, in ms (20 ms is what browsers send and expect).'),
    output_bitrate_bps: z
      .number()
      .int()
      .min(6_000)
      .max(128_000)
      .default(32_000)
      .describe('Opus bitrate of spoken answers, in bits per second (32 kb/s is transparent for speech).'),
    output_max_catch_up_frames: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(3)
      .describe(
        'Most outbound frames sent at once when the pacing timer woke up late; a longer stall moves the schedule forward instead of bursting.',
      ),
    output_pacer_early_ms: z
      .number()
      .min(0)
      .max(5)
      .default(2)
      .describe(
        "How far ahead of its due time an outbound frame may leave, in ms. Every call's frames are paced by one shared timer, armed this much before the earliest deadline; one wake-up sends the frames of every call due within this margin (fewer wake-ups, and timer lateness lands before the deadline). 0 never sends early.",
      ),
  })
  .refine(
    (c) =>
      (c.ice_port_min === undefined) === (c.ice_port_max === undefined) &&
      (c.ice_port_min ?? 0) < (c.ice_port_max ?? 1),
    {
      message: 'ice_port_min and ice_port_max go together, with ice_port_min < ice_port_max',
      path: ['ice_port_min'],
    },
  );

export type WebRtcConfig = z.infer<typeof webrtcConfigSchema>;

/** Defaults, for callers (tests, tools) that have no config file. */
export function defaultWebRtcConfig(overrides: Partial<WebRtcConfig> = {}): WebRtcConfig {
  return webrtcConfigSchema.parse(overrides);
}
