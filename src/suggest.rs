//! "Did you mean …?": the nearest of the valid words to a mistyped one, for every message that names
//! a key, an image, a stage, an instruction or a platform the user probably meant.

/// The candidate closest to `word` (Damerau–Levenshtein), if it is close enough to be a typo: at most
/// half the longer word's length (and at least 2) edits away.
pub fn nearest<'a>(word: &str, candidates: &'a [String]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|candidate| (strsim::damerau_levenshtein(word, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len().max(word.len()) / 2).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate.as_str())
}
