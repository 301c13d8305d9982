"""tfaudiogan.export: SavedModel (keras.export.ExportArchive), builtins-only TFLite, TF Serving.

Re-exported names (``name as name`` keeps ruff F401 quiet):
  ExportSpec / Signature / export_model / build_archive               (spec.py)
  check_inputs / check_waveform_batch / check_pitches                 (signatures.py)
  export_run                                                           (runs.py)
  export_saved_model / write_archive / next_version / read_metadata  (saved_model.py)
  convert_tflite / write_tflite / run_tflite                         (tflite.py)
  export_translator / translator_archive                             (cyclegan.py)
  rest_predict / request_body / saved_model_cli_show / saved_model_cli_run /
  make_predict_request / PredictionServicer                           (serving.py)
"""

from tfaudiogan.export.cyclegan import export_translator as export_translator
from tfaudiogan.export.cyclegan import translator_archive as translator_archive
from tfaudiogan.export.runs import export_run as export_run
from tfaudiogan.export.saved_model import export_saved_model as export_saved_model
from tfaudiogan.export.saved_model import next_version as next_version
from tfaudiogan.export.saved_model import read_metadata as read_metadata
from tfaudiogan.export.saved_model import write_archive as write_archive
from tfaudiogan.export.serving import PredictionServicer as PredictionServicer
from tfaudiogan.export.serving import make_predict_request as make_predict_request
from tfaudiogan.export.serving import request_body as request_body
from tfaudiogan.export.serving import rest_predict as rest_predict
from tfaudiogan.export.serving import saved_model_cli_run as saved_model_cli_run
from tfaudiogan.export.serving import saved_model_cli_show as saved_model_cli_show
from tfaudiogan.export.signatures import check_inputs as check_inputs
from tfaudiogan.export.signatures import check_pitches as check_pitches
from tfaudiogan.export.signatures import check_waveform_batch as check_waveform_batch
from tfaudiogan.export.spec import ExportSpec as ExportSpec
from tfaudiogan.export.spec import Signature as Signature
from tfaudiogan.export.spec import build_archive as build_archive
from tfaudiogan.export.spec import export_model as export_model
from tfaudiogan.export.tflite import convert_tflite as convert_tflite
from tfaudiogan.export.tflite import run_tflite as run_tflite
from tfaudiogan.export.tflite import write_tflite as write_tflite
