"""The Lyapunov spectrum, forwards along the trajectory: `qr` (Benettin's QR
re-orthonormalisation, `lyapunov_spectrum` and `SpectrumStream`), `tangent` (the step
Jacobians of a chunk on a frame of tangent vectors, and `log|det J_t|`) and `summary`
(the spectrum's figures: medians, standard errors, Kaplan-Yorke dimension, the sum rule).

May import: `gradscope.numerics.spectrum.qr`.
"""

from .qr import SpectrumStream, batch_means_se, lyapunov_spectrum  # noqa: F401  (the room's entry points)
