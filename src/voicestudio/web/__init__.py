"""The browser studio's back end: a FastAPI app over the studio's services, with its worker beside it."""
