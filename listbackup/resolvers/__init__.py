"""Thin resolvers: read arguments and the context, call one service, return its models.

The schema layer above wraps the models in Strawberry types; resolvers never see
GraphQL types, and services never see GraphQL at all.
"""
