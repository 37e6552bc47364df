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
    Given the target takes SRT publishing
    When the test signal is published over SRT
    Then the stream is listed within the deadline
    And the listed tracks match the test signal

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
