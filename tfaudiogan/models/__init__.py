"""tfaudiogan.models: network builders (functional keras.Model factories), one module per paper."""

from tfaudiogan.models import cppn as cppn
from tfaudiogan.models import cyclegan as cyclegan
from tfaudiogan.models import ddsp_gan as ddsp_gan
from tfaudiogan.models import gansynth as gansynth
from tfaudiogan.models import specgan as specgan
from tfaudiogan.models import wavegan as wavegan
