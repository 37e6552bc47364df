@media @mutating @playback
Feature: Playback
  Viewers reach OME's streams over LL-HLS and WebRTC. A viewer behaves like a player: it loads
  the master playlist, follows the live stream with blocking reloads and fetches each part as
  it appears. What it fetched must follow the LL-HLS rules, decode to what the encoder sent,
  and arrive close to live.

  Background:
    Given an OME target
    And a test encoder
    And a live stream published over RTMP

  Scenario: A viewer plays the stream over LL-HLS
    When a viewer watches the stream over LL-HLS for 4 seconds
    Then the viewer played each part as it appeared, breaking no LL-HLS rule
    And the parts decode to the encoder's codec, size and frame rate with no timestamp gap

  Scenario: Live latency stays under the limit
    # The limit is media.max_live_latency_s (OMH_MEDIA__MAX_LIVE_LATENCY_S), 3 s unless configured.
    When a viewer watches the stream over LL-HLS for 4 seconds
    Then the live edge latency p95 stays under the configured limit

  Scenario: A viewer plays the stream over WebRTC
    Given the target offers WebRTC
    When a viewer asks for the stream over WebRTC
    Then the viewer receives video frames
