@docker @container
Feature: A disposable OvenMediaEngine in a container
  The harness starts OvenMediaEngine from an image, waits until its API answers, lets clients
  reach it on this machine only, and always removes it afterwards, keeping its log with the reports.

  Background:
    Given a Docker engine with the OME image

  Scenario: A launched OME is ready, answers through its published port, and is removed afterwards
    When the harness launches OME in a container
    Then the container is running and labelled as the harness's own
    And OME names its version through the API port published on this machine
    And the API refuses a request without the access token
    When the harness is done with the container
    Then the container is gone
    And its log is kept with the reports, without the access token

  Scenario: An OME that refuses its configuration is reported in its own words
    When the harness launches OME in a container with an empty access token
    # A real OME exits with code 0 here (../shared/samples/v0.20.0-media/empty_token_container_exit.txt)
    Then the launch fails because OME exited before it was ready, quoting "Empty <AccessToken> is not allowed"
    And the container is gone
    And its log is kept with the reports, without the access token
