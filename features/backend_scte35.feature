@backend @db @mutating
Feature: SCTE-35 cues through the backend
  The backend inserts a marker's cue through OME's API on an active channel, refuses inactive
  channels, unknown markers and breaks OME would drop, and never reports success when OME refuses
  the cue. On the emulator the harness reads what OME received; on a real OME (which tells nobody,
  and answers 200 even to a cue it drops) it proves the effect in the LL-HLS output instead.

  @endpoint_scte35 @ome_client
  Scenario: A cue on a live channel reaches OME with the marker's values
    Given the stream backend
    And OME accepts SCTE-35 through its API
    And a new channel
    And a SCTE-35 marker for a break the application keeps
    And the channel is started
    And a publisher is live on the channel
    When the marker is inserted on the channel
    Then the backend answers 200
    And the database records the marker as inserted on the channel
    And OME received the marker's cue

  @endpoint_scte35 @error_handling
  Scenario: A break OME would drop is refused and never sent
    Given the stream backend
    And OME accepts SCTE-35 through its API
    And a new channel
    And a SCTE-35 marker for a break the application drops
    And the channel is started
    And a publisher is live on the channel
    When the marker is inserted on the channel
    Then the backend answers 422 with code "break_too_short"
    And the database does not record the marker as inserted
    And OME received no cue for the channel

  @endpoint_scte35 @error_handling @audit
  Scenario: An OME without SCTE-35 in its API refuses the cue and the backend says so
    Given a stream backend in front of an OME without SCTE-35 in its API
    And a new channel
    And a SCTE-35 marker for a 30 second break
    And the channel is started
    And a publisher is live on the channel
    When the marker is inserted on the channel
    Then the backend answers 502 naming OME's version and its refusal
    And the audit log records a failed "scte35.insert" for the channel
    And the database does not record the marker as inserted

  @endpoint_scte35 @error_handling
  Scenario: A cue on an inactive channel is refused without reaching OME
    # The stream is live, so a backend that forwarded the cue would see OME accept it.
    Given the stream backend
    And a new channel
    And a SCTE-35 marker for a break the application keeps
    And a publisher is live on the channel
    When the marker is inserted on the channel
    Then the backend answers 409 with code "channel_inactive"
    And the database does not record the marker as inserted
    And OME received no cue for the channel

  @endpoint_scte35 @error_handling
  Scenario: An unknown marker is refused
    Given the stream backend
    And a new channel
    And the channel is started
    When the marker "no-such-marker-omh" is inserted on the channel
    Then the backend answers 404 with code "marker_not_found"
