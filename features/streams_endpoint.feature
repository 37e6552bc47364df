@streams
Feature: Streams endpoint
  The configured application lists its streams, and unknown names are refused clearly.

  Background:
    Given an OME target

  Scenario: The streams endpoint answers with distinct stream names
    When I list the streams of the configured application
    Then the answer is a list of distinct stream names

  # Publishes a stream so the list cannot pass empty: needs an encoder and may change the target.
  @media @mutating
  Scenario: The configured application lists its streams
    Given a test encoder
    And a live stream published over RTMP
    When I list the streams of the configured application
    Then the list names the published stream

  Scenario: An unknown stream is not found
    When I ask for the stream "nosuchstream-omh"
    Then the API refuses with status 404 and message containing "Could not find the stream"

  Scenario: An unknown virtual host is not found
    When I ask for the virtual host "nosuchvhost-omh"
    Then the API refuses with status 404 and message "Could not find the virtual host: [nosuchvhost-omh]"

  Scenario: The diagnosis reads the streams endpoint
    When the connection is diagnosed
    Then the "streams" check passes
