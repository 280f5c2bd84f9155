// @ts-check
// JSDoc types mirroring app/schemas.py (snake_case end to end, no conversion layer).

/** @typedef {{token: string, prob: number}} Candidate */
/** @typedef {{index: number, token: string, token_id: number, prob: number,
 *             candidates: Candidate[]}} Step */
/** @typedef {{name: string, stack: "encoder" | "decoder", layer: number,
 *             kind: "self" | "cross", query_tokens: string[], key_tokens: string[],
 *             weights: number[][][]}} AttentionMap */
/** @typedef {{model: string, source_tokens: string[], target_tokens: string[],
 *             translation: string, steps: Step[], attention: AttentionMap[],
 *             timing_ms: Record<string, number>, notes?: string[]}} TranslateResponse */
/** @typedef {TranslateResponse & {prompt_tokens: string[],
 *             roles: ("start" | "demonstration" | "query" | "answer")[],
 *             demonstration_share: Record<string, number[]>}} GenerateResponse */
/** @typedef {{model: string, span_length: number, samples: number,
 *             induction: Record<string, number[]>,
 *             previous_token: Record<string, number[]>}} HeadScores */
/** @typedef {{name: string, architecture: "encoder-decoder" | "decoder-only",
 *             source_language: string | null, target_language: string, n_layers: number,
 *             n_heads: number, d_model: number, parameters: number,
 *             metrics: Record<string, number | string>, max_text_chars: number,
 *             max_prompt_chars: number, max_new_tokens: number}} ModelInfo */
/** @typedef {"encoder.self" | "decoder.self" | "decoder.cross"} View */

export {};
