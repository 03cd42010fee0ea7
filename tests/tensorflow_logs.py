"""Markers of TensorFlow's C++ log lines, which no command's output may carry (test_cli_quiet, test_cli_distributed)."""

TENSORFLOW_LOG_LINES = (
    "failed call to cuInit",  # first device use on a machine without a GPU
    "cudart_stub",  # CUDA probing at import
    "cpu_feature_guard",  # "This TensorFlow binary is optimized to use available CPU instructions ..."
    "absl::InitializeLog",  # "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
    "oneDNN custom operations",
)


def tensorflow_log_lines(output: str) -> list[str]:
    """The markers of TensorFlow's C++ log lines found in `output`."""
    return [marker for marker in TENSORFLOW_LOG_LINES if marker in output]
