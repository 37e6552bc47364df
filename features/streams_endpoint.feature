@streams
Feature: Streams endpoint
  The configured application lists its streams, and unknown names are refused clearly.

  Background:
    Given an OME target

  Scenario: The configured application lists its streams
    When I list the streams of the configured application
    Then the answer is a list of stream names

  Scenario: An unknown stream is not found
    When I ask for the stream "nosuchstream-omh"
    Then the API refuses with status 404 and message containing "Could not find the stream"

  Scenario: An unknown virtual host is not found
    When I ask for the virtual host "nosuchvhost-omh"
    Then the API refuses with status 404 and message "Could not find the virtual host: [nosuchvhost-omh]"

  Scenario: The diagnosis reads the streams endpoint
    When the connection is diagnosed
    Then the "streams" check passes
