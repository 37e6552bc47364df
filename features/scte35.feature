@media @mutating
Feature: SCTE-35 cues
  A cue-out goes into a live stream by the path this OME version offers — the API up to
  v0.20.x, SCTE-35 sections in MPEG-TS over SRT from v0.21.0 — and shows in what a viewer gets.

  Background:
    Given an OME target
    And a test encoder

  @cue_output
  Scenario: A cue-out on a live stream shows in the LL-HLS output
    Given a live stream ready for cues
    When a cue-out of 2 seconds with event id 4242 is inserted
    Then the LL-HLS output shows the cue
    And a segment of the output is cut at the cue time

  Scenario: A cue with a bad body is refused with OME's message
    Given OME takes SCTE-35 through its API
    And a live stream published over RTMP
    When a cue without an event id is sent through the API
    Then OME refuses the cue with "id is required in events"

  Scenario: An OME without SCTE-35 in its API refuses the API path
    Given OME has no SCTE-35 in its API
    And a live stream published over RTMP
    When a cue-out of 2 seconds with event id 1 is sent through the API
    Then OME refuses the cue with "eventFormat is not supported: [scte35]"

  Scenario: The diagnosis names the SCTE-35 paths of this version
    When the SCTE-35 capability is diagnosed
    Then it names the insertion paths this version offers
