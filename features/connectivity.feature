@connectivity
Feature: Connectivity to the OME API
  The API must answer on the addresses clients use and name its OvenMediaEngine version.

  Background:
    Given an OME target

  Scenario: The diagnosis finds the API reachable
    When the connection is diagnosed
    Then the "tcp" check does not fail
    And the "api" check passes

  Scenario: The API names its version
    When I ask for the OME version
    Then the answer names an OvenMediaEngine version

  Scenario: An unknown path is refused the way OME refuses it
    When I request the path "/v1/nosuchthing"
    Then the API refuses with status 404 and message "Controller not found"
