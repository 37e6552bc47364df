@backend @db @mutating
Feature: Stream lifecycle through the backend
  Starting a channel hands out its stream key and activates it; stopping it removes the stream
  from OME and deactivates the channel. The database records every step.

  Background:
    Given the stream backend
    And a new channel

  Scenario: Starting a channel hands out its stream key and activates it
    When the channel is started
    Then the backend answers 200
    And the answer carries the channel's stream key
    And the database shows the channel active
    And the database stores the stream key that was handed out
    And the audit log records "stream.start" for the channel

  Scenario: Stopping a live channel removes its stream from OME
    Given the channel is started
    And a publisher is live on the channel
    When the channel is stopped
    Then the backend answers 200
    And OME no longer lists the channel's stream
    And the database shows the channel inactive
    And the audit log records "stream.stop" for the channel

  Scenario: Stopping a channel nobody publishes to is not an error
    Given the channel is started
    When the channel is stopped
    Then the backend answers 200
    And the database shows the channel inactive
    And the audit log records "stream.stop" for the channel

  @media
  Scenario: Publishing with the handed-out key makes the stream appear
    When the channel is started
    And an encoder publishes with the stream key it was given
    Then OME lists the channel's stream
    And the backend lists the stream as the channel's
