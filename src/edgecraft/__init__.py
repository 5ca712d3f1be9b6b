"""edgecraft: machine learning on microcontrollers, from training to verified firmware."""

__version__ = "0.1.0"
