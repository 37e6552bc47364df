@media @mutating @metrics
Feature: Stream stats while publishing
  While a real encoder publishes, the stream's stats count the bytes received and their clocks
  move; the incoming bitrate matches what the encoder sends; after the encoder stops the
  stream's stats are gone (or at least frozen).

  Background:
    Given an OME target
    And a test encoder

  @stream_metrics
  Scenario: Stats follow a live publish
    Given a live stream published over RTMP
    When its stats are sampled while it publishes
    Then the received bytes grow and the clocks move
    And the incoming bitrate matches the encoder's within the tolerance

  Scenario: The stream's stats end with the publish
    Given a live stream published over RTMP
    When the encoder stops
    Then the stream's stats are gone or frozen
