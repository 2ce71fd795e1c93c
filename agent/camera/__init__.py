"""The counter camera (issue 7): decode codes, count people, watch the camera's own health, and
summarise what it saw around each settlement as evidence (DOMAIN §5).

Pure core: :mod:`locate`, :mod:`decode` (numpy arrays in, decoded texts out), :mod:`evidence`,
:mod:`dedupe`, :mod:`health`. Adapters: :mod:`decoders` (zxing-cpp, pyzbar), :mod:`presence`
(OpenCV's bundled detectors), :mod:`source` (VideoCapture), :mod:`still`, :mod:`worker`.
"""

from agent.camera.decode import DecodePipeline, FrameDecode, PipelineOptions
from agent.camera.decoders import Decoded, PyzbarDecoder, Symbology, ZxingDecoder, plausible
from agent.camera.dedupe import CodeDebouncer, DebounceOptions, unique_codes
from agent.camera.errors import CameraError, DetectorUnavailable, ProfileError, SourceError
from agent.camera.evidence import CameraEvidence, EvidenceWindow, pick_still, summarise
from agent.camera.health import Health, HealthMonitor, HealthOptions, worst
from agent.camera.presence import PersonDetector, PresenceDetector, PresenceOptions
from agent.camera.profile import AnalysisOptions, CameraProfile, ScannerOptions, load_profile, parse_profile
from agent.camera.ring import FrameAnalysis, Ring
from agent.camera.source import CameraSource, Frame, SourceOptions
from agent.camera.still import StillStore, encode_still
from agent.camera.worker import CameraWorker

__all__ = [
    "AnalysisOptions", "CameraError", "CameraEvidence", "CameraProfile", "CameraSource", "CameraWorker",
    "CodeDebouncer", "DebounceOptions", "DecodePipeline", "Decoded", "DetectorUnavailable", "EvidenceWindow",
    "Frame", "FrameAnalysis", "FrameDecode", "Health", "HealthMonitor", "HealthOptions", "PersonDetector",
    "PipelineOptions", "PresenceDetector", "PresenceOptions", "ProfileError", "PyzbarDecoder", "Ring",
    "ScannerOptions", "SourceError", "SourceOptions", "StillStore", "Symbology", "ZxingDecoder",
    "encode_still", "load_profile", "parse_profile", "pick_still", "plausible", "summarise", "unique_codes",
    "worst",
]
