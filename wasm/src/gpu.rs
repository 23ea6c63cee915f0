//! The wgpu context the encoder runs on (WebGPU in a browser, Vulkan/Metal/DX12 natively; Mesa lavapipe on a
//! CPU-only Linux machine), its compute pipelines (one per WGSL kernel), and small helpers for buffers, dispatches
//! and reading results back.

use wgpu::util::DeviceExt;

use crate::error::GpuError;

/// Shared helpers, prepended to every kernel.
const COMMON: &str = include_str!("kernels/common.wgsl");

/// The kernels, by name (`attention` is compiled per model: see [`Gpu::compile`]).
pub const KERNELS: [(&str, &str); 5] = [
    ("embed", include_str!("kernels/embed.wgsl")),
    ("layernorm", include_str!("kernels/layernorm.wgsl")),
    ("matmul_q8", include_str!("kernels/matmul_q8.wgsl")),
    ("attention", include_str!("kernels/attention.wgsl")),
    ("pool", include_str!("kernels/pool.wgsl")),
];

/// Device, queue and the compiled pipelines.
#[derive(Debug)]
pub struct Gpu {
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// What the adapter says it is (name, backend), for reports.
    pub adapter: String,
    /// The adapter says it is a CPU (a software rasteriser, or a browser's fallback adapter).
    pub is_cpu: bool,
    pipelines: Vec<(&'static str, wgpu::ComputePipeline)>,
}

impl Gpu {
    /// The first adapter wgpu offers (`WGPU_BACKEND` / `WGPU_ADAPTER_NAME` narrow it natively), a device with the
    /// adapter's own limits (lavapipe and browsers allow more than the defaults), and every kernel compiled.
    pub async fn new() -> Result<Gpu, GpuError> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("drbench"),
                required_limits: adapter.limits(),
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::Device(e.to_string()))?;
        let mut gpu = Gpu {
            device,
            queue,
            adapter: describe_adapter(&info),
            is_cpu: info.device_type == wgpu::DeviceType::Cpu,
            pipelines: Vec::new(),
        };
        for (name, _) in KERNELS {
            if name != "attention" {
                gpu.compile(name, &[]);
            }
        }
        Ok(gpu)
    }

    /// Compiles (or recompiles) kernel `name` with each `(placeholder, value)` substituted in its source: model
    /// constants that must be known at compile time for loops to unroll.
    pub fn compile(&mut self, name: &'static str, constants: &[(&str, String)]) {
        let (_, src) = KERNELS.iter().find(|(n, _)| *n == name).expect("a known kernel");
        let mut src = format!("{COMMON}\n{src}");
        for (placeholder, value) in constants {
            src = src.replace(placeholder, value);
        }
        let module = self.device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(name),
            source: wgpu::ShaderSource::Wgsl(src.into()),
        });
        let pipeline = self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(name),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        self.pipelines.retain(|(n, _)| *n != name);
        self.pipelines.push((name, pipeline));
    }

    fn pipeline(&self, name: &str) -> &wgpu::ComputePipeline {
        &self.pipelines.iter().find(|(n, _)| *n == name).expect("kernel compiled before use").1
    }

    /// A read-only storage buffer holding `data`.
    pub fn storage<T: bytemuck::Pod>(&self, label: &str, data: &[T]) -> wgpu::Buffer {
        // wgpu refuses zero-sized bindings: give empty data one element's room.
        let bytes: &[u8] = bytemuck::cast_slice(data);
        let padded;
        let contents = if bytes.is_empty() {
            padded = [0u8; 4];
            &padded[..]
        } else {
            bytes
        };
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        })
    }

    /// A storage buffer of `len` f32 that kernels write (and that can be copied out).
    pub fn scratch(&self, label: &str, len: usize) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (len.max(1) * 4) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        })
    }

    /// Records one dispatch of kernel `name` over `groups` with `params` (a uniform) at binding 0 and `buffers`
    /// at bindings 1…
    pub fn dispatch<P: bytemuck::Pod>(
        &self,
        enc: &mut wgpu::CommandEncoder,
        name: &str,
        params: &P,
        buffers: &[&wgpu::Buffer],
        groups: (u32, u32, u32),
    ) {
        let pipeline = self.pipeline(name);
        let uniform = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(name),
            contents: bytemuck::bytes_of(params),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let mut entries = vec![wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() }];
        entries.extend(
            buffers
                .iter()
                .enumerate()
                .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32 + 1, resource: b.as_entire_binding() }),
        );
        let bind = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(name),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let mut pass =
            enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(name), timestamp_writes: None });
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(groups.0, groups.1, groups.2);
    }

    /// Submits `enc` after copying `src` (f32) into a mappable buffer, waits, and returns the values.
    pub async fn finish_and_read(
        &self,
        mut enc: wgpu::CommandEncoder,
        src: &wgpu::Buffer,
    ) -> Result<Vec<f32>, GpuError> {
        let size = src.size();
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        enc.copy_buffer_to_buffer(src, 0, &staging, 0, size);
        self.queue.submit([enc.finish()]);
        let (tx, rx) = futures_channel::oneshot::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        #[cfg(not(target_arch = "wasm32"))]
        self.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| GpuError::Device(e.to_string()))?;
        rx.await
            .map_err(|_| GpuError::Device("the device was lost before the results were read".into()))?
            .map_err(|e| GpuError::Device(e.to_string()))?;
        let values = staging
            .slice(..)
            .get_mapped_range()
            .map_err(|e| GpuError::Device(e.to_string()))?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        staging.unmap();
        Ok(values)
    }
}

/// "name (backend)", or the backend alone where the name is hidden (browsers do not tell wgpu the adapter).
fn describe_adapter(info: &wgpu::AdapterInfo) -> String {
    match (info.name.is_empty(), info.device_type == wgpu::DeviceType::Cpu) {
        (true, true) => format!("a fallback (CPU) adapter ({:?})", info.backend),
        (true, false) => format!("{:?}", info.backend),
        _ => format!("{} ({:?})", info.name, info.backend),
    }
}

/// Workgroup grid for `n` one-workgroup-per-row dispatches (rows beyond 65,535 spill into y).
pub fn rows_grid(n: usize) -> (u32, u32, u32) {
    let n = n as u32;
    if n <= 65_535 { (n.max(1), 1, 1) } else { (65_535, n.div_ceil(65_535), 1) }
}
