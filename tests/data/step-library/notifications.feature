Feature: Notifications, in English
  Duplicated, lost, late and forged notifications, and InvoiceBox's monitoring test notification.

  Scenario: A duplicated notification is applied once
    Given a buyer "private person" has the payment link of an order with the basket "course"
    And InvoiceBox will deliver the next notification twice
    When the buyer pays on the payment page
    Then InvoiceBox delivered the payment notification 2 times and the shop answered "success" each time
    And the payment is in the order's journal once
    And InvoiceBox registered 1 receipt(s)

  Scenario: A lost notification, and the shop learns of the payment by syncing
    Given a buyer "private person" has the payment link of an order with the basket "course"
    And InvoiceBox will lose the next notification
    When the buyer pays on the payment page
    Then InvoiceBox sent no notification
    And the order is in the state "payment link issued"
    When the shop syncs the order with InvoiceBox
    Then the order is in the state "paid"

  Scenario: A late notification reaches the shop after the buyer came back
    Given a buyer "sole proprietor" has the payment link of an order with the basket "course"
    And InvoiceBox will deliver the next notification 1 s late
    When the buyer pays on the payment page and comes straight back to the shop
    Then the order is in the state "awaiting payment"
    When InvoiceBox delivers the late notifications
    Then the order is in the state "paid"

  Scenario: A notification signed with another key is refused and changes nothing
    Given a buyer "private person" has the payment link of an order with the basket "course"
    When a payment notification of the order arrives at the shop's notification address signed with a random key
    Then the shop answers HTTP 200 with the error "signature_error"
    And the order has not changed

  Scenario: The shop answers the monitoring test notification
    When InvoiceBox sends its monitoring test notification
    Then the shop answered the test notification with HTTP 200 "success"
