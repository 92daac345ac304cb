"""The texts of Help > Keyboard shortcuts and Help > About (rich text), and the box that shows them."""

from PySide6 import QtCore, QtWidgets

from reluviz import __version__

SHORTCUTS_HTML = """
<table cellspacing=6>
<tr><td><b>Space</b></td><td>play / pause</td></tr>
<tr><td><b>Right</b></td><td>step forward (steps per frame updates; replays the history when looking back)</td></tr>
<tr><td><b>Left</b></td><td>step back through the recorded history</td></tr>
<tr><td><b>Home / End</b></td><td>jump to the start / to the newest step</td></tr>
<tr><td><b>Ctrl+Return</b></td><td>resume training from the displayed step (the later history is discarded)</td></tr>
<tr><td><b>Ctrl+R</b></td><td>reset: a new run with the current settings</td></tr>
<tr><td><b>Ctrl+Z</b></td><td>undo a new run: the run a preset, a CSV file, Reset or a data/model setting replaced comes back</td></tr>
<tr><td><b>Ctrl+0</b></td><td>reset the plot's zoom</td></tr>
<tr><td><b>Esc</b></td><td>leave a text field, so Space and the arrows drive playback again</td></tr>
<tr><td><b>Ctrl+E</b></td><td>export frames, GIF or MP4</td></tr>
<tr><td><b>Ctrl+O</b></td><td>load a CSV of x,y rows</td></tr>
<tr><td><b>Ctrl+Shift+O</b></td><td>open a run file (.npz from <tt>reluviz train</tt> or Save run)</td></tr>
<tr><td><b>Ctrl+S</b></td><td>save the run on screen as a run file</td></tr>
</table>
<p>Click an elbow marker (the triangles on the x axis) to follow one unit. Drag to pan, wheel to zoom.</p>
<p>Over the side panel the wheel scrolls the panel; a box, list or slider takes the wheel once clicked
(never the data and model settings, whose change starts a new run).</p>
"""

#: shown, greyed, where notices appear while there is none
IDLE_HINT = ("Space: play / pause   \u00b7   \u2192 / \u2190: a step forward / back   \u00b7   drag the history bar to "
             "look back   \u00b7   Ctrl+Z: undo a new run   \u00b7   F1: all shortcuts")

ABOUT_HTML = (f"<h3>reluviz {__version__}</h3><p>Watch a ReLU network f(x) = &Sigma; v<sub>j</sub> relu(w<sub>j</sub> x + b<sub>j</sub>) "
              "+ c learn a 1-D function by SGD, step by step: every unit's elbow at x = -b/w, the minibatch, the "
              "train and test loss.</p><p>Built for UC Berkeley CS 182's lectures on SGD and ReLU networks.</p>")


def message_box(parent: QtWidgets.QWidget, title: str, text: str) -> QtWidgets.QMessageBox:
    """A non-modal box showing rich ``text`` (deleted when closed)."""
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Information, title, text,
                                QtWidgets.QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(QtCore.Qt.TextFormat.RichText)
    box.setObjectName("messageBox")
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
