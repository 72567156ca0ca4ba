"""The studio's services: projects, takes, oto lines and voicebanks, shared by the API and the worker."""
