@media @mutating
Feature: SCTE-35 cues
  OME v0.19–v0.20.5 take a cue-out through :sendEvent and show it as a segment cut in LL-HLS —
  when the break is longer than 1.5 × the application's LL-HLS segment duration; a shorter break
  is answered 200 and dropped (in OME's log only). v0.21.0 removed the API path and no version
  reads SCTE-35 sections from an MPEG-TS input: there, on-demand insertion is impossible, and the
  scenarios show exactly that instead of passing.

  Background:
    Given an OME target
    And a test encoder

  @cue_output
  Scenario: A cue-out on a live stream shows in the LL-HLS output
    Given OME offers on-demand SCTE-35 insertion
    And a live stream published over RTMP
    When a cue-out with a break this application keeps is inserted with event id 4242
    Then the LL-HLS output shows the cue
    And a segment of the output is cut at the cue time

  Scenario: A break too short for the application's segments is accepted by the API and dropped
    Given OME offers on-demand SCTE-35 insertion
    And a live stream published over RTMP
    When a cue-out with a break this application drops is inserted with event id 4243
    Then the harness says the cue was accepted by the API but not applied
    And no segment of the output is cut at the cue time

  Scenario: A cue with a bad body is refused with OME's message
    Given OME offers on-demand SCTE-35 insertion
    And a live stream published over RTMP
    When a cue without an event id is sent through the API
    Then OME refuses the cue with "id is required in events"

  Scenario: An OME without SCTE-35 in its API refuses the API path
    Given OME has no SCTE-35 in its API
    And a live stream published over RTMP
    When a cue-out of 10 seconds with event id 1 is sent through the API
    Then OME refuses the cue with "eventFormat is not supported: [scte35]"

  Scenario: An in-band cue leaves no trace for viewers
    Given the target takes SRT publishing
    And a live stream published over SRT with an in-band SCTE-35 injector
    When an in-band cue-out of 10 seconds with event id 4244 goes out on the wire
    Then the LL-HLS output shows no evidence of the in-band cue

  Scenario: The diagnosis says whether this version can insert SCTE-35 on demand
    When the SCTE-35 capability is diagnosed
    Then it says whether this version can insert cues on demand
