"""The JSON API: the loaded models, translation and generation with every attention map and step,
and the reward model's score of an answer.

`build_router(settings)` makes the routes with this deployment's limits in their request models,
so /openapi.json and the 422s agree with the settings. Errors are mapped in app/errors.py.
"""

import asyncio

from fastapi import APIRouter, Query, Request, Response

from app.compression import json_response
from app.deps import InferenceDep, RegistryDep
from app.inference import ClientGone
from app.inside import inside_json, lens_json
from app.learning import learn_json
from app.rewarding import reward_json
from app.schemas import (
    GenerateRequest,
    GenerateResponse,
    HeadScores,
    InsideRequest,
    InsideResponse,
    LearnRequest,
    LearnResponse,
    LensRequest,
    LogitLensResponse,
    ModelInfo,
    PositionalEncoding,
    Problem,
    RewardRequest,
    RewardResponse,
    TranslateRequest,
    TranslateResponse,
    limited,
)
from app.settings import Settings

CHECK_AGAIN_S = 0.1
ERRORS = {404: {"model": Problem}, 422: {"model": Problem}}
BUSY = {503: {"model": Problem, "description": "busy or past the deadline; see Retry-After"}}
INFERENCE_ERRORS = {
    **ERRORS,
    **BUSY,
    400: {"model": Problem, "description": "the body could not be read as JSON"},
    413: {"model": Problem, "description": "the body is over the size limit"},
}


def until_gone(request: Request) -> ClientGone:
    """What returns once the client has hung up: after the body, the next ASGI message a
    request gets is `http.disconnect`, when the client goes (or once the response is sent).
    Waiting for it costs nothing until then, where polling Starlette's is_disconnected() costs
    each waiting request a few checks a second."""

    async def gone() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            await asyncio.sleep(CHECK_AGAIN_S)  # an unexpected message: look again later

    return gone


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["api"])
    TranslateBody = limited(TranslateRequest, settings)  # noqa: N806 (a class)
    GenerateBody = limited(GenerateRequest, settings)  # noqa: N806 (a class)
    LearnBody = limited(LearnRequest, settings)  # noqa: N806 (a class)
    InsideBody = limited(InsideRequest, settings)  # noqa: N806 (a class)
    LensBody = limited(LensRequest, settings)  # noqa: N806 (a class)
    RewardBody = limited(RewardRequest, settings)  # noqa: N806 (a class)

    @router.get("/models")
    def list_models(registry: RegistryDep) -> list[ModelInfo]:
        """List the loaded models with their sizes, quality figures and input limits."""
        return registry.models()

    @router.post("/translate", response_model=TranslateResponse, responses=INFERENCE_ERRORS)
    async def translate(body: TranslateBody, request: Request, inference: InferenceDep) -> Response:
        """Translate a sentence; return its tokens, every decoding step and every attention map."""
        content = await inference.translate_json(body, until_gone(request))
        return await json_response(content, request)

    @router.post("/generate", response_model=GenerateResponse, responses=INFERENCE_ERRORS)
    async def generate(body: GenerateBody, request: Request, inference: InferenceDep) -> Response:
        """Continue a prompt with a GPT of any stage (in its chat template, if it has one); the
        same shape as translate, with self-attention only, the role of every position, and each
        head's share of attention on the demonstrations."""
        content = await inference.generate_json(body, until_gone(request))
        return await json_response(content, request)

    @router.post("/reward", response_model=RewardResponse, responses=INFERENCE_ERRORS)
    async def score_an_answer(
        body: RewardBody, request: Request, inference: InferenceDep
    ) -> Response:
        """Score an answer to an instruction with a reward model; return the reward, the tokens
        it read with their roles, and its attention in the shape /api/generate gives."""
        content = await reward_json(inference, body, until_gone(request))
        return await json_response(content, request)

    @router.post("/learn", response_model=LearnResponse, responses=INFERENCE_ERRORS)
    async def learn_in_prompt_and_weights(
        body: LearnBody, request: Request, inference: InferenceDep
    ) -> Response:
        """Learn a few-shot prompt's demonstrations two ways: in the prompt (the GPT reads them)
        and in the weights (a few gradient steps on a copy, which then answers the query
        alone); both answers, side by side."""
        content = await learn_json(inference, body, until_gone(request))
        return await json_response(content, request)

    @router.post("/inside", response_model=InsideResponse, responses=INFERENCE_ERRORS)
    async def open_a_head(body: InsideBody, request: Request, inference: InferenceDep) -> Response:
        """Open one cell of a heatmap: x, q, K, V, the scores, scaled, masked, softmax, z, the
        heads joined, W_O, Add & Norm and the feed-forward, as the model computed them."""
        content = await inside_json(inference, body, until_gone(request))
        return await json_response(content, request)

    @router.post("/logit-lens", response_model=LogitLensResponse, responses=INFERENCE_ERRORS)
    async def read_every_layer(
        body: LensBody, request: Request, inference: InferenceDep
    ) -> Response:
        """What the output layer would predict from the embedding and from each decoder layer,
        at every decoding step; the last layer's top tokens are the step's candidates."""
        content = await lens_json(inference, body, until_gone(request))
        return await json_response(content, request)

    @router.get("/head-scores", responses={**ERRORS, **BUSY})  # computed once, under admission
    async def get_head_scores(inference: InferenceDep, model: str | None = None) -> HeadScores:
        """What each GPT head does: induction and previous-token scores, layer × head."""
        return await inference.head_scores(model)

    @router.get("/positional-encoding", responses=ERRORS)
    def get_positional_encoding(
        inference: InferenceDep, length: int = Query(32, ge=1, le=256), model: str | None = None
    ) -> PositionalEncoding:
        """Return the sinusoidal table the model adds to its embeddings: [position][dimension]."""
        return inference.positional_encoding(model, length)

    return router
