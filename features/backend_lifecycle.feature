@backend @db @mutating
Feature: Stream lifecycle through the backend
  Starting a channel hands out its stream key and activates it; stopping it removes the stream
  from OME and deactivates the channel. The database records every step.

  Background:
    Given the stream backend
    And a new channel

  @endpoint_start @audit
  Scenario: Starting a channel hands out its stream key and activates it
    When the channel is started
    Then the backend answers 200
    And the answer carries the channel's stream key
    And the database shows the channel active
    And the database stores the stream key that was handed out
    And the audit log records "stream.start" for the channel

  @endpoint_stop @ome_client @audit
  Scenario: Stopping a live channel removes its stream from OME
    Given the channel is started
    And a publisher is live on the channel
    When the channel is stopped
    Then the backend answers 200
    And OME no longer lists the channel's stream
    And the database shows the channel inactive
    And the audit log records "stream.stop" for the channel

  @endpoint_stop @error_handling
  Scenario: Stopping a channel nobody publishes to is not an error
    Given the channel is started
    When the channel is stopped
    Then the backend answers 200
    And the database shows the channel inactive
    And the audit log records "stream.stop" for the channel

  @media @endpoint_listing @ome_client
  Scenario: Publishing with the handed-out key makes the stream appear
    When the channel is started
    And an encoder publishes with the stream key it was given
    Then OME lists the channel's stream
    And the backend lists the stream as the channel's

  @endpoint_details @ome_client @audit
  Scenario: A live channel's details carry OME's stream and its metrics
    Given the channel is started
    And a publisher is live on the channel
    When the channel's details are asked for
    Then the backend answers 200
    And the details show the stream live with its metrics
    And the audit log records "stream.get" for the channel

  @endpoint_listing @ome_client
  Scenario: The backend lists a live channel's stream as the channel's
    Given the channel is started
    And a publisher is live on the channel
    When the streams are listed through the backend
    Then the backend answers 200
    And the backend lists the stream as the channel's
