"""What a route needs from the app, as FastAPI dependencies: `inference: InferenceDep`."""

from typing import Annotated

from fastapi import Depends, Request

from app.inference import Inference
from app.registry import Registry


def get_inference(request: Request) -> Inference:
    return request.app.state.inference


def get_registry(request: Request) -> Registry:
    return request.app.state.inference.registry


InferenceDep = Annotated[Inference, Depends(get_inference)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
