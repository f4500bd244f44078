# Sourced by the scripts in this folder: puts uv on PATH, installing it with pip when it is missing.
if ! command -v uv >/dev/null 2>&1; then
    echo "==> uv not found: installing it with pip" >&2
    python3 -m pip install --quiet uv || python3 -m pip install --quiet --user uv
    PATH="$(python3 -m site --user-base)/bin:$PATH"
    export PATH
    command -v uv >/dev/null 2>&1 || { echo "error: could not install uv with pip" >&2; exit 1; }
fi
