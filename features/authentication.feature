@authentication
Feature: Authentication with the API access token
  OME accepts the configured token and refuses every other credential.

  Background:
    Given an OME target

  Scenario: The configured token is accepted
    When I list the virtual hosts with the configured token
    Then the call succeeds

  Scenario: A wrong token is refused
    When I list the virtual hosts with the token "wrong-token"
    Then the API refuses with status 401 and message "Invalid credential"

  Scenario: A call without a token is refused
    When I list the virtual hosts without a token
    Then the API refuses with status 401 and message "Authorization header is required to call API"

  Scenario: The diagnosis verifies both sides of authentication
    When the connection is diagnosed
    Then the "auth" check passes
