@browser
Feature: Playback in a viewer's browser
  Most viewers watch in a browser, through OvenPlayer (OME's own player) and hls.js. The harness opens
  the stream in Chromium with both, on a page whose origin is not OME's (so CORS counts as it does for
  a real viewer), and reads what the viewer sees: the first frame, playback keeping up with the clock,
  freezes, and the player's own errors.

  Background:
    Given an OME target
    And a viewer's browser with OvenPlayer and hls.js

  @media @mutating
  Scenario: A viewer's browser plays the stream over LL-HLS
    Given a test encoder
    And a live stream published over RTMP
    When a viewer's browser plays the stream over LL-HLS for 4 seconds
    # A young stream: its first 6 s segment must close first (a warm one took 2 s on the emulator).
    Then the browser shows the first frame within 15 seconds
    And playback keeps up with the wall clock, with no freeze and no player error

  @media @mutating
  Scenario: A viewer's browser plays the stream over WebRTC
    # OvenPlayer's default is relay-only ICE through OME's TURN over TCP; direct UDP is tried as well.
    Given the target offers WebRTC
    And a test encoder
    And a live stream published over RTMP
    When a viewer's browser plays the stream over WebRTC, through OME's TURN relay and over direct UDP
    Then at least one WebRTC path plays in the browser

  @media @mutating
  Scenario: A browser viewer sees the stream end when the encoder stops
    Given a test encoder
    And a live stream published over RTMP
    When a viewer's browser plays the stream over LL-HLS for 2 seconds
    And the encoder stops
    Then the browser's player reports error 302 within 15 seconds

  Scenario: A missing stream shows the player's error
    Given the target's LL-HLS address is known
    When a viewer's browser opens a stream nobody publishes, over LL-HLS
    Then the browser's player reports error 302 within 10 seconds
