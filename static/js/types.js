// @ts-check
// JSDoc types mirroring app/schemas/requests.py and responses.py (snake_case end to end, no
// conversion layer).

/** @typedef {{token: string, prob: number}} Candidate */
/** @typedef {{index: number, token: string, token_id: number, prob: number,
 *             candidates: Candidate[]}} Step */
/** @typedef {{name: string, stack: "encoder" | "decoder", layer: number,
 *             kind: "self" | "cross", query_tokens: string[], key_tokens: string[],
 *             weights: number[][][]}} AttentionMap */
/** @typedef {{model: string, source_tokens: string[], target_tokens: string[],
 *             translation: string, steps: Step[], attention: AttentionMap[],
 *             timing_ms: Record<string, number>, notes?: string[]}} TranslateResponse */
/** A position's role: a few-shot prompt's (demonstration, query) or a chat template's
 * (instruction, input); the answer in both.
 * @typedef {"start" | "demonstration" | "query" | "instruction" | "input" | "answer"} Role */
/** @typedef {TranslateResponse & {prompt: string, prompt_tokens: string[], roles: Role[],
 *             demonstration_share: Record<string, number[]>}} GenerateResponse */
/** POST /api/reward: the reward model's score of an answer, what it read (<s> to </s>) with
 * each token's role, and its `decoder.{i}.self` attention over those tokens.
 * @typedef {{model: string, reward: number, tokens: string[], roles: Role[],
 *             attention: AttentionMap[], timing_ms: Record<string, number>}} RewardResponse */
/** POST /api/learn: the demonstrations read in the prompt, or trained into a copy of the
 * weights (`steps` gradient steps, the loss of each), which then answers the query alone.
 * @typedef {{in_prompt: GenerateResponse, in_weights: GenerateResponse, steps: number,
 *             learning_rate: number, losses: number[],
 *             timing_ms: Record<string, number>}} LearnResponse */
/** GenerateRequest.demonstrations: pairs the server picks from the GPT's pool, put before the
 * prompt, whose last line is then the query.
 * @typedef {{kind: "similar" | "random", count: number}} Demonstrations */
/** induction_on_text: language (`zh`, `en`) -> site -> per head; empty without a pool.
 * @typedef {{model: string, span_length: number, samples: number,
 *             induction: Record<string, number[]>,
 *             previous_token: Record<string, number[]>,
 *             induction_on_text: Record<string, Record<string, number[]>>}} HeadScores */
/** POST /api/inside: one query of one head, every number in the order the model computes it
 * (D = d_model, Dh = d_head, Tk = key_tokens.length); `masked` is null where the mask hides a
 * key; the token embedding and positional encoding only where x is the embedding.
 * @typedef {{model: string, site: string, head: number, query: number, d_model: number,
 *            d_head: number, query_tokens: string[], query_token: string, key_tokens: string[],
 *            x: number[], token_embedding: number[] | null,
 *            positional_encoding: number[] | null, q: number[], k: number[][], v: number[][],
 *            scores: number[], scaled: number[], masked: (number | null)[], probs: number[],
 *            z: number[], heads_z: number[], output: number[], residual: number[],
 *            norm: number[], feed_forward: number[], feed_forward_residual: number[],
 *            feed_forward_norm: number[], timing_ms: Record<string, number>}} InsideResponse */
/** POST /api/logit-lens: per step, what the output layer would predict from the embedding
 * (`decoder.embed`) and from each layer's output (`decoder.0`, ...).
 * @typedef {{layer: string, top: Candidate[]}} LensLayer */
/** @typedef {{index: number, token: string, layers: LensLayer[]}} LensStep */
/** @typedef {{model: string, layers: string[], steps: LensStep[],
 *             timing_ms: Record<string, number>}} LogitLensResponse */
/** @typedef {{name: string, architecture: "encoder-decoder" | "decoder-only",
 *             stage: "base" | "sft" | "reward" | "rlhf", trained_from: string | null, source_language: string | null, target_language: string, n_layers: number,
 *             n_heads: number, d_model: number, parameters: number,
 *             metrics: Record<string, number | string>, max_text_chars: number,
 *             max_prompt_chars: number, max_new_tokens: number,
 *             max_beam_size: number}} ModelInfo */
/** @typedef {{d_model: number, values: number[][]}} PositionalEncoding */
/** Settings.decoding_limits(): the ranges of the decoding fields and the text lengths.
 * @typedef {{max_new_tokens: number, max_beam_size: number, min_temperature: number,
 *            max_temperature: number, max_top_k: number, min_top_p: number,
 *            max_text_chars: number, max_prompt_chars: number}} Limits */
/**
 * LearnRequest's ranges and defaults (app/schemas/requests.py LEARNING).
 * @typedef {{steps: number, min_steps: number, max_steps: number, learning_rate: number,
 *            min_learning_rate: number, max_learning_rate: number}} LearningLimits */
/** DecodingFields' defaults (the request schema's, within this deployment's limits).
 * @typedef {{strategy: "greedy" | "beam" | "sample", max_new_tokens: number, beam_size: number,
 *            temperature: number, top_k: number, top_p: number, seed: number,
 *            top_n: number}} DecodingDefaults */
/** An attention site kind: stack and kind of an AttentionMap's name, without the layer.
 * @typedef {"encoder.self" | "decoder.self" | "decoder.cross"} Site */

export {};
