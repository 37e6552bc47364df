@backend
Feature: The backend refuses callers without its bearer token
  Every /api route needs `Authorization: Bearer <backend token>`. A request with no token or a
  wrong one is refused with 401 and code "unauthorized", and changes nothing.

  Background:
    Given the stream backend

  @endpoint_channels @access_control
  Scenario: A request without a bearer token is refused
    When the channels are listed without a bearer token
    Then the backend answers 401 with code "unauthorized"

  @endpoint_channels @access_control
  Scenario: A request with a wrong bearer token is refused
    When the channels are listed with a wrong bearer token
    Then the backend answers 401 with code "unauthorized"

  # A backend that lets the call in would start the channel: only where changing it is allowed.
  @db @mutating @endpoint_start @access_control
  Scenario: Starting a channel with a wrong bearer token changes nothing
    Given a new channel
    When the channel is started with a wrong bearer token
    Then the backend answers 401 with code "unauthorized"
    And the database shows the channel inactive
