Feature: A shop's own checkout, in English
  The step library's English texts, with a basket and buyers the scenarios define themselves.

  Background:
    Given the basket "tea and set-up":
      | sku   | name                   | price   | quantity | VAT  | type    |
      | TEA-1 | Da Hong Pao tea, 100 g | 850.00  | 2        | 20%  | goods   |
      | SETUP | Coffee machine set-up  | 1500.00 | 1        | none | service |

  Scenario: A private buyer pays and the shop ships part of the order
    Given the buyer "Mary" is a private person with e-mail "mary@example.org"
    And a buyer "Mary" paid an order with the basket "tea and set-up"
    Then the order's amount is 3200.00 including 283.33 VAT
    And the order is in the state "paid"
    And the shop recorded the "prepayment 100%" receipt on the order
    When the shop ships the lines:
      | sku   | quantity |
      | TEA-1 | 1        |
    Then InvoiceBox has shipped:
      | sku   | quantity |
      | TEA-1 | 1        |
    And the "full settlement" receipt is for 850.00
    And InvoiceBox gives the buyer the "full settlement" receipt

  Scenario: The shop ships one line of a paid order
    Given a buyer "private person" paid an order with the basket "tea and set-up"
    When the shop ships 1 of "SETUP"
    Then InvoiceBox has 1 of "SETUP" shipped and nothing else
    And the "full settlement" receipt is for 1500.00

  Scenario: A company with INN and KPP gets reporting documents, then a refund by line
    Given the buyer "Romashka LLC" is a company with INN "7707083893" and KPP "773601001"
    And a buyer "Romashka LLC" paid an order with the basket "tea and set-up"
    When the shop ships the order
    Then InvoiceBox gives the buyer the reporting documents: transfer report, act, TORG-12
    And the shop recorded the documents on the order: transfer report, act, TORG-12
    And InvoiceBox registers no receipt at the cash register
    When the buyer asks for a refund
    And the shop gets the refundable lines of the order
    Then the refundable lines are:
      | sku   | quantity | amount  |
      | TEA-1 | 2        | 1700.00 |
      | SETUP | 1        | 1500.00 |
    When the shop refunds 1 of "TEA-1"
    Then the order is in the state "partially refunded"
    And 850.00 of 3200.00 has been refunded
    And InvoiceBox gives the buyer the refund documents: transfer report, TORG-12
    And InvoiceBox has 1 refund for the order

  Scenario: A sole proprietor goes through the documented payment sequence
    Given the buyer "Petrov" is a sole proprietor with INN "500100732259"
    And a buyer "Petrov" with the basket "tea and set-up"
    When the buyer places the order
    And the shop creates the order at InvoiceBox
    Then InvoiceBox returns the order id and the payment link
    When the shop redirects the buyer to the payment page
    And the buyer opens the payment page and gets the invoice
    Then the payment page shows the buyer's details
    And the payment page shows the order's lines and amount
    When the buyer pays the invoice
    Then InvoiceBox redirects the buyer to the shop
    And InvoiceBox notifies the shop of the payment
    And the order's journal shows, in order:
      | trigger            | state               |
      | place              | order placed        |
      | issue_payment_link | payment link issued |
      | redirect_buyer     | buyer redirected    |
      | confirm_payment    | paid                |

  Scenario: An unpaid order expires and cannot be paid any more
    Given a buyer "company" has the payment link of an order with the basket "goods"
    When 4 days pass
    And the shop syncs the order with InvoiceBox
    Then the order is in the state "expired"
    And the order's status at InvoiceBox is "expired"
    And the order cannot be paid on the payment page

  Scenario: A paid order can be neither cancelled nor refunded beyond what was paid
    Given a buyer "private person" paid an order with the basket "goods"
    When the shop tries to cancel the order
    Then the action is refused: not allowed in the current state
    And the order has not changed
    When the shop tries to refund 4 of "BOOK-1"
    Then the action is refused: more than was paid
    And InvoiceBox has no refunds for the order

  Scenario: The shop's lifecycle events
    Given a buyer "private person" paid an order with the basket "course"
    Then the shop published the events: OrderPlaced, PaymentLinkIssued, OrderPaid
