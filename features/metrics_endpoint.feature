@metrics
Feature: Metrics endpoint
  Stats answer at every level with byte counters and timestamps.

  Background:
    Given an OME target

  Scenario Outline: Stats answer at <level> level
    When I ask for the <level> stats
    Then the stats carry byte counters and timestamps

    Examples:
      | level  |
      | server |
      | vhost  |
      | app    |

  Scenario: Stats of an unknown stream are not found
    When I ask for the stats of the stream "nosuchstream-omh"
    Then the API refuses with status 404 and message containing "Could not find the stream"

  Scenario: The diagnosis reads the metrics
    When the connection is diagnosed
    Then the "metrics" check passes
