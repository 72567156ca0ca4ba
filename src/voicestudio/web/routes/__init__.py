"""The API's routers, one per noun of the contract."""
