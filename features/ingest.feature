@media @mutating
Feature: Ingest
  A real encoder publishes a test signal (H.264 video and AAC audio). OME lists the stream
  with the tracks the encoder sends, and the stream is gone once the encoder stops or the
  stream is deleted.

  Background:
    Given an OME target
    And a test encoder

  Scenario: A stream published over RTMP is listed with its tracks
    When the test signal is published over RTMP
    Then the stream is listed within the deadline
    And the listed tracks match the test signal
    And the stream names its publisher's connection

  Scenario: A stream published over SRT is listed with its tracks
    # OME lists an SRT input before it knows its tracks (frame rate, sample rate, channels 0) and
    # fills them in about a second later: the tracks are compared once filled, within a deadline.
    Given the target takes SRT publishing
    When the test signal is published over SRT
    Then the stream is listed within the deadline
    And OME fills in the tracks within 6 seconds of listing the stream
    And the listed tracks match the test signal
    And the input carries a Data track before its video and audio

  Scenario: The stream is gone when the encoder stops
    When the test signal is published over RTMP
    And the encoder stops
    Then the stream is gone within 5 seconds

  Scenario: Deleting the stream disconnects the encoder
    When the test signal is published over RTMP
    And the stream is deleted through the API
    Then the encoder is disconnected within 5 seconds
    And the stream is gone within 5 seconds

  Scenario: A publish into an unknown application is refused
    When the test signal is published over RTMP into the application "omh-no-such-app"
    Then the publish is refused and the encoder's last words are shown
