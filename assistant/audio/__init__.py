"""Sound devices, resampling and self-echo suppression for the live assistant."""
