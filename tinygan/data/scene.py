"""A procedural 3-D scene and its exact pictures: the ground truth a NeRF learns from.

The scene is three solids given by signed distance functions (SDFs), each with its own colour:

    a red sphere      centre (0, 0, 0.5),    radius 0.5
    a green box       centre (0.6, -0.6, 0.3), half-sizes (0.3, 0.3, 0.3)
    a blue torus      centre (-0.5, 0.5, 0.15), lying flat, radii 0.45 (ring) and 0.15 (tube)

lit by one directional light plus ambient light (Lambertian shading), on a black background:

    pixel = albedo * (AMBIENT + (1 - AMBIENT) * max(0, n . l))      where the ray hits a solid
    pixel = 0                                                        where it misses

A reference renderer sphere-traces each pixel's ray (Hart, 1996): step along the ray by the distance
to the nearest surface, which can never overshoot it, until that distance is tiny (a hit) or the ray
has left the scene (a miss).

The views: 40 cameras on the upper hemisphere of radius 4, each looking at the origin, 32x32 pixels,
pinhole camera of focal length FOCAL pixels; positions drawn from a seeded generator. Views 0..31
train, views 32..39 are the fixed held-out test set. Cameras use the convention of Mildenhall et al.
(2020): a camera-to-world matrix whose columns are the camera's right, up and backward axes and its
position; the camera looks down its -z axis.
"""
import functools
from dataclasses import dataclass

import numpy as np

HEIGHT = WIDTH = 32
FOCAL = 40.0                  # pixels: a field of view of 2 atan(16 / 40) = 43.6 degrees
RADIUS = 4.0                  # distance of every camera from the origin
NEAR, FAR = 2.0, 6.0          # the segment of each ray the NeRF samples (the scene lies within 1.3 of the origin)
NUM_VIEWS, NUM_TRAIN = 40, 32
POSE_SEED = 18
AMBIENT = 0.25
LIGHT = np.array([0.5, -0.3, 1.0]) / np.linalg.norm([0.5, -0.3, 1.0])   # direction towards the light

SPHERE_CENTRE, SPHERE_RADIUS = np.array([0.0, 0.0, 0.5]), 0.5
BOX_CENTRE, BOX_HALF = np.array([0.6, -0.6, 0.3]), np.array([0.3, 0.3, 0.3])
TORUS_CENTRE, TORUS_RING, TORUS_TUBE = np.array([-0.5, 0.5, 0.15]), 0.45, 0.15
COLOURS = np.array([[0.9, 0.2, 0.2],      # sphere: red
                    [0.2, 0.8, 0.3],      # box: green
                    [0.2, 0.4, 0.9]])     # torus: blue


# -- the solids: signed distances of points p (..., 3) --------------------------------------------

def sphere_sdf(p):
    """|p - c| - r: negative inside, zero on the surface, the distance to it outside."""
    return np.linalg.norm(p - SPHERE_CENTRE, axis=-1) - SPHERE_RADIUS


def box_sdf(p):
    """Distance to an axis-aligned box of half-sizes b: |max(q, 0)| + min(max_k q_k, 0), q = |p - c| - b."""
    q = np.abs(p - BOX_CENTRE) - BOX_HALF
    return np.linalg.norm(np.maximum(q, 0.0), axis=-1) + np.minimum(q.max(axis=-1), 0.0)


def torus_sdf(p):
    """A torus in the plane z = c_z: |(|p_xy - c_xy| - R, p_z - c_z)| - r."""
    q = p - TORUS_CENTRE
    ring = np.linalg.norm(q[..., :2], axis=-1) - TORUS_RING
    return np.sqrt(ring ** 2 + q[..., 2] ** 2) - TORUS_TUBE


SOLIDS = (sphere_sdf, box_sdf, torus_sdf)


def scene_sdf(p):
    """(distance to the nearest solid, index of that solid): the union of the solids is the minimum."""
    distances = np.stack([sdf(p) for sdf in SOLIDS], axis=-1)
    return distances.min(axis=-1), distances.argmin(axis=-1)


def surface_normal(p, eps=1e-4):
    """The unit normal at surface points p: the SDF's gradient, by central differences."""
    gradient = np.stack([scene_sdf(p + step)[0] - scene_sdf(p - step)[0] for step in np.eye(3) * eps], axis=-1)
    return gradient / np.linalg.norm(gradient, axis=-1, keepdims=True)


# -- cameras and rays --------------------------------------------------------------------------------

def look_at(position, target=np.zeros(3), up=np.array([0.0, 0.0, 1.0])):
    """The 4x4 camera-to-world matrix of a camera at `position` looking at `target` (z is up in the world)."""
    backward = position - target
    backward = backward / np.linalg.norm(backward)
    right = np.cross(up, backward)
    right = right / np.linalg.norm(right)
    camera_up = np.cross(backward, right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, camera_up, backward, position
    return pose


def hemisphere_position(azimuth, elevation, radius=RADIUS):
    """A point at `radius` from the origin: azimuth around z, elevation above the ground plane (radians)."""
    return radius * np.array([np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth),
                              np.sin(elevation)])


def camera_poses(count=NUM_VIEWS, seed=POSE_SEED):
    """`count` camera-to-world matrices (count, 4, 4) on the upper hemisphere, from a seeded generator.

    Azimuths uniform on [0, 2 pi); elevations uniform on [10, 70] degrees (a camera at the pole would
    have no horizontal direction to call right).
    """
    rng = np.random.default_rng(seed)
    azimuths = rng.uniform(0.0, 2 * np.pi, count)
    elevations = np.radians(rng.uniform(10.0, 70.0, count))
    return np.stack([look_at(hemisphere_position(a, e)) for a, e in zip(azimuths, elevations)])


def turntable_poses(count=8, elevation_degrees=35.0, start_degrees=7.5):
    """`count` cameras evenly spaced around the scene at one elevation: novel views for a turntable strip."""
    azimuths = np.radians(start_degrees) + 2 * np.pi * np.arange(count) / count
    return np.stack([look_at(hemisphere_position(a, np.radians(elevation_degrees))) for a in azimuths])


def camera_rays(pose, height=HEIGHT, width=WIDTH, focal=FOCAL):
    """The ray through the centre of every pixel: origins and unit directions, each (height * width, 3).

    Pixel (i, j) (row i from the top, column j) looks along d_cam = ((j + 1/2 - W/2) / f, -(i + 1/2 - H/2) / f, -1)
    in camera coordinates; the pose's rotation R turns it into the world, d = R d_cam / |R d_cam|,
    and every ray starts at the camera's position o.
    """
    i, j = np.meshgrid(np.arange(height) + 0.5, np.arange(width) + 0.5, indexing="ij")
    d_cam = np.stack([(j - width / 2) / focal, -(i - height / 2) / focal, -np.ones_like(i)], axis=-1)
    d = d_cam.reshape(-1, 3) @ pose[:3, :3].T  # [formula: nerf-camera-ray]
    directions = d / np.linalg.norm(d, axis=-1, keepdims=True)
    origins = np.broadcast_to(pose[:3, 3], directions.shape).copy()
    return origins, directions


# -- the reference renderer --------------------------------------------------------------------------

def sphere_trace(origins, directions, near=0.0, far=FAR + 2.0, steps=128, hit_distance=1e-4):
    """(hit, t, solid) per ray: whether it meets a surface, how far along, and which solid.

    Each step moves t forward by the distance to the nearest surface: a sphere of that radius around
    the point holds no surface, so the step cannot pass through one.
    """
    t = np.full(len(origins), near)
    done = np.zeros(len(origins), dtype=bool)
    for _ in range(steps):
        distance, _ = scene_sdf(origins + t[:, None] * directions)
        done |= distance < hit_distance
        t = np.where(done, t, t + distance)
        if np.all(done | (t > far)):
            break
    points = origins + t[:, None] * directions
    distance, solid = scene_sdf(points)
    hit = (distance < 10 * hit_distance) & (t <= far)
    return hit, t, solid


def shade(points, solid):
    """Lambertian colour of surface points: albedo * (ambient + (1 - ambient) * max(0, n . l))."""
    brightness = AMBIENT + (1 - AMBIENT) * np.maximum(surface_normal(points) @ LIGHT, 0.0)
    return COLOURS[solid] * brightness[:, None]


def render_view(pose, height=HEIGHT, width=WIDTH, focal=FOCAL):
    """The exact picture of the scene from `pose`: (height, width, 3) floats in [0, 1], black background.

    Also the distance along each pixel's ray to the surface it sees (inf where it sees the background).
    """
    origins, directions = camera_rays(pose, height, width, focal)
    hit, t, solid = sphere_trace(origins, directions)
    image = np.zeros((len(origins), 3))
    image[hit] = shade(origins[hit] + t[hit, None] * directions[hit], solid[hit])
    depth = np.where(hit, t, np.inf)
    return image.reshape(height, width, 3), depth.reshape(height, width)


@dataclass(frozen=True)
class SceneViews:
    """The 40 views of the scene: images (40, H, W, 3) in [0, 1], poses (40, 4, 4), depths (40, H, W)."""
    images: np.ndarray
    poses: np.ndarray
    depths: np.ndarray
    focal: float = FOCAL
    near: float = NEAR
    far: float = FAR

    @property
    def height(self):
        return self.images.shape[1]

    @property
    def width(self):
        return self.images.shape[2]

    @property
    def train(self):
        """Indices of the 32 training views."""
        return np.arange(NUM_TRAIN)

    @property
    def test(self):
        """Indices of the 8 held-out views (the same in every run)."""
        return np.arange(NUM_TRAIN, len(self.poses))

    def rays(self, views):
        """(origins, directions, colours) of every pixel of the given views, each (len(views) * H * W, 3)."""
        origins, directions = zip(*(camera_rays(self.poses[v], self.height, self.width, self.focal) for v in views))
        colours = self.images[views].reshape(-1, 3)
        return np.concatenate(origins), np.concatenate(directions), colours


@functools.lru_cache(maxsize=1)
def load_scene_views():
    """The scene's 40 views (rendered once per process; about a second): the data of `tinygan train nerf`."""
    poses = camera_poses()
    images, depths = zip(*(render_view(pose) for pose in poses))
    views = SceneViews(np.stack(images), poses, np.stack(depths))
    views.images.setflags(write=False)
    return views
