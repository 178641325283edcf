"""Notification bodies from the API reference (§8.5, §8.4), byte for byte, shared by the tests."""

# §8.5, the worked example: one line, raw UTF-8 Cyrillic, every "/" written as "\/" (964 bytes).
NOTIFICATION = (
    r'{"id":"0190f3a2-5c1e-7d4b-9a2f-3b8c1d0e4f57","description":"Бронирование номера","currencyId":"RUB",'
    r'"amount":371.88,"vatAmount":61.98,"basketItems":[{"sku":"5fe0adcfa7fb4","name":"Бронирование номера",'
    r'"measure":"шт.","measureCode":"796","quantity":3,"amount":123.96,"amountWoVat":103.3,"totalAmount":371.88,'
    r'"totalVatAmount":61.98,"vatCode":"RUS_VAT20","type":"service","paymentType":"full_prepayment"}],'
    r'"orderContainerId":"0190f3a2-5b90-7a11-8c3e-6d2f9e1a0b22","merchantId":"ffffffff-ffff-ffff-ffff-ffffffffffff",'
    r'"status":"completed","subtype":"order","createdAt":"2024-07-01T09:00:00+00:00","merchantOrderId":"m-1608560079",'
    r'"expirationDate":"2024-07-02T00:00:00+00:00","paidAt":"2024-07-01T09:05:12+00:00",'
    r'"paymentUrl":"https:\/\/pay.invoicebox.ru\/order\/0190f3a2-5b90-7a11-8c3e-6d2f9e1a0b22",'
    r'"customer":{"type":"private","name":"Peter","phone":"79001112233","email":"peter@domain.com"},'
    r'"languageId":"ru","processable":true}'
)
NOTIFICATION_KEY = "wh-secret-2024"
NOTIFICATION_SIGNATURE = "2054b8ce709744f9cafa7c6b1c8d1c0e05feab28"

# §8.4-style monitoring test notification (made up by the reference for simulator tests).
TEST_NOTIFICATION = (
    '{"id":"ffffffff-ffff-ffff-ffff-ffffffffffff","merchantId":"ffffffff-ffff-ffff-ffff-ffffffffffff",'
    '"merchantOrderId":"","status":"completed","amount":0,"currencyId":"RUB",'
    '"createdAt":"2024-07-01T09:00:00+00:00","customer":{"type":"private"}}'
)
