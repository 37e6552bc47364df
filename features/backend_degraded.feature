@backend @db @mutating
Feature: Degraded mode when OME is unreachable
  With OME gone the backend keeps what does not need OME working, says it is degraded, refuses
  what needs OME with 503, and loses nothing in its database.

  Background:
    Given a stream backend whose OME can be stopped
    And a new channel
    And a SCTE-35 marker for a 30 second break
    And the channel is started
    And OME has stopped

  @endpoint_start @error_handling @audit
  Scenario: Starting a channel still works and says it is degraded
    When the channel is started
    Then the backend answers 200 in degraded mode
    And the database shows the channel active
    And the audit log records a degraded "stream.start" for the channel

  @endpoint_scte35 @error_handling @audit
  Scenario: A cue cannot be inserted and the backend says why
    When the marker is inserted on the channel
    Then the backend answers 503 in degraded mode
    And the audit log records a degraded "scte35.insert" for the channel

  @endpoint_stop @error_handling @audit
  Scenario: Stopping a channel still deactivates it
    When the channel is stopped
    Then the backend answers 200 in degraded mode
    And the database shows the channel inactive
    And the audit log records a degraded "stream.stop" for the channel

  @endpoint_listing @error_handling
  Scenario: Listing streams says OME is unreachable
    When the streams are listed through the backend
    Then the backend answers 503 with code "ome_unreachable"
