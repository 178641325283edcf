"""Where each rule comes from: the public InvoiceBox sources, pinned to the version read.

A rule cites one or more of these. ``DOCS`` is the contract (the source of docs.invoicebox.ru);
the official integrations (``SDK``, ``MCP``, ``BITRIX``) show what InvoiceBox's own code sends
and checks. Where they disagree the rule book accepts the lenient reading that an official
integration actually sends, and says so in the rule's ``decision``.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Source:
    """One public file, at the commit it was read at, and what in it the rule relies on."""

    tag: str  # DOCS, DOCS-Y, SDK, MCP, BITRIX, TESTAPP
    repo: str
    commit: str
    path: str
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.repo}@{self.commit}:{self.path}"
        return f"{self.tag} {where}" + (f" ({self.detail})" if self.detail else "")

    def cite(self) -> str:
        """Short form for tables: ``DOCS merchant/order/create.md``."""
        path = self.path.removeprefix("docs/")
        return f"{self.tag} {path}" + (f" ({self.detail})" if self.detail else "")


_DOCS = ("InvoiceBox/docs", "85d866e")
_DOCS_Y = ("YIGRIKY/invoicebox-docs", "05030dc")
_SDK = ("InvoiceBox/invoicebox-sdk-php", "e17f079")
_MCP = ("InvoiceBox/invoicebox-mcp-server", "4b62bec")
_BITRIX = ("InvoiceBox/1c-bitrix", "18a43ba")
_TESTAPP = ("InvoiceBox/backend-test-app", "52d7464")

DOCS_CREATE = Source("DOCS", *_DOCS, "docs/merchant/order/create.md", "CreateOrderRequest, BasketItem, Customer")
DOCS_ROUND_POLICY = Source("DOCS", *_DOCS, "docs/merchant/order/create.md", "OrderSetting.roundPolicy")
DOCS_UPDATE = Source("DOCS", *_DOCS, "docs/merchant/order/update.md")
DOCS_SHIPMENT = Source("DOCS", *_DOCS, "docs/merchant/order/shipment_create.md", "CreateShipmentRequest, BasketItem")
DOCS_REFUND = Source("DOCS", *_DOCS, "docs/merchant/refund/create.md", "CreateRefundOrderRequest")
DOCS_ERRORS = Source("DOCS", *_DOCS, "docs/dictionary/error.md")
DOCS_CURRENCIES = Source("DOCS", *_DOCS, "docs/dictionary/iso4217.md")
DOCS_TAG1212 = Source("DOCS", *_DOCS, "docs/dictionary/tag1212.md")
DOCS_API = Source("DOCS", *_DOCS, "docs/api/api.md", "a request off the contract is an error")
DOCS_FILTERS = Source("DOCS", *_DOCS, "docs/api/filters.md", "page, pageSize")
DOCS_UNIQUE_SKU = Source("DOCS", *_DOCS, "docs/merchant/cms/opencartv3.md",
                         "every product its own unique SKU; an empty SKU cannot be refunded")
DOCS_CMS_REQUIREMENTS = Source("DOCS", *_DOCS, "docs/merchant/cms/requirements.md",
                               "INN, KPP, name, address when the order has them")
DOCS_Y_VATNONE = Source("DOCS-Y", *_DOCS_Y, "docs/order/create.md", "git history: NONE renamed VATNONE in 2021-12")
SDK_EXPIRATION = Source("SDK", *_SDK, "src/DTO/Order/CreateOrderRequest.php", "expirationDate as Y-m-d\\TH:i:sP")
SDK_ENUMS = Source("SDK", *_SDK, "src/DTO/Enum/PaymentType.php, BasketItemType.php")
SDK_MOCKS = Source("SDK", *_SDK, "tests/mock/success-*.json",
                   "legal customers without KPP, a private customer with vatNumber")
SDK_ERROR_MOCK = Source("SDK", *_SDK, "tests/mock/wrong-amount-response.json", "fields[].code wrong_value")
MCP_MONEY = Source("MCP", *_MCP, "src/core/money.ts", "reconcileBasket")
MCP_VAT_FROM_CODE = Source("MCP", *_MCP, "src/tools/writes.ts", "vatFromCode: total × p/(100+p) for every code")
MCP_VAT_CODES = Source("MCP", *_MCP, "src/registry/vat.ts", "12 codes incl. 22 %, 7 %, 5 %, *_ADDED")
MCP_COUNTERPARTY = Source("MCP", *_MCP, "src/core/counterparty.ts", "reviewCustomer: problems and warnings")
MCP_SCHEMAS = Source("MCP", *_MCP, "src/tools/schemas.ts", "basketItem, customer")
MCP_PAGING = Source("MCP", *_MCP, "src/tools/reads.ts", "_page, _pageSize")
BITRIX_VAT = Source("BITRIX", *_BITRIX, "invoicebox.payment/install/sale_payment/invoicebox/handler.php",
                    "calculateVATData: VAT per unit × quantity")
BITRIX_BODY = Source("BITRIX", *_BITRIX, "invoicebox.payment/install/sale_payment/invoicebox/handler.php",
                     "getBodyRequest_v3: vatNumber for any buyer, no KPP, vatCode NONE/RUS_VAT110/120")
TESTAPP_ERRORS = Source("TESTAPP", *_TESTAPP, "src/Presentation/ErrorResponseListener.php",
                        "house error codes: validation, wrong_value")
