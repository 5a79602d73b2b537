// The Segment screen's state: the photo as encoded, the prompt history, the live mask. UI-free
// editing rules live in Session/ (compiled and tested on Linux); this file only wires them to
// SwiftUI and the bindings.

import CoreGraphics
import EdgeSAM
import PhotosUI
import SwiftUI
import UIKit
import UniformTypeIdentifiers

/// The model files the app bundles (copied into ios-demo/Models/ before building; see README).
enum BundledModels {
    static func paths() throws -> (encoder: String, decoder: String) {
        guard let encoder = Bundle.main.path(forResource: "edge_sam_3x_encoder", ofType: "onnx"),
              let decoder = Bundle.main.path(forResource: "edge_sam_3x_decoder", ofType: "onnx") else {
            throw EdgeSamError.FileNotFound(reason: "edge_sam_3x_encoder.onnx / edge_sam_3x_decoder.onnx "
                + "are not in the app bundle: copy them into ios-demo/Models and regenerate the project")
        }
        return (encoder, decoder)
    }

    /// Loaded once, on first use, off the main thread (both files are read, checked and optimised).
    static func shared() async throws -> SegmentAnything {
        try await loader.value
    }

    private static let loader = Task.detached(priority: .userInitiated) { () throws -> SegmentAnything in
        let files = try paths()
        return try SegmentAnything.fromFiles(encoderPath: files.encoder, decoderPath: files.decoder)
    }
}

/// The message to show for any error the demo meets.
func describe(_ error: Error) -> String {
    (error as? EdgeSamError)?.reason ?? error.localizedDescription
}

@MainActor
final class DemoModel: ObservableObject {
    enum Phase: Equatable {
        case noPhoto
        case encoding(since: Date)
        case ready
        case failed(String)
    }

    /// The mask's colour over the photo.
    static let tint = MaskColor(red: 30, green: 144, blue: 255, alpha: 128)

    @Published private(set) var phase = Phase.noPhoto
    /// Exactly the pixels that were encoded, upright: masks line up with it pixel for pixel.
    @Published private(set) var photo: CGImage?
    @Published private(set) var history = PromptHistory()
    @Published private(set) var segmentation: Segmentation?
    @Published private(set) var overlay: CGImage?
    @Published var pickedItem: PhotosPickerItem? {
        didSet { if let pickedItem { load(pickedItem) } }
    }

    private var model: SegmentAnything?
    private var embedding: ImageEmbedding?
    private var encoding: Task<Void, Never>?
    private var segmenting: Task<Void, Never>?

    func load(_ item: PhotosPickerItem) {
        encoding?.cancel()
        segmenting?.cancel()
        history.clear()
        segmentation = nil
        overlay = nil
        embedding = nil
        encoding = Task {
            do {
                // UIImage decodes HEIC too and keeps the EXIF orientation as imageOrientation;
                // UprightPixels applies it, so the pixels shown are the pixels encoded.
                guard let data = try await item.loadTransferable(type: Data.self), let image = UIImage(data: data) else {
                    throw EdgeSamError.BadImage(reason: "this photo could not be read")
                }
                // Drawing and turning a 12 MP photo takes a moment: not on the main thread.
                let pixels = try await Task.detached(priority: .userInitiated) { try UprightPixels(uiImage: image) }.value
                photo = pixels.cgImage()
                phase = .encoding(since: .now)
                let model: SegmentAnything = try await BundledModels.shared()
                self.model = model
                embedding = try await model.encode(upright: pixels)
                phase = .ready
            } catch is CancellationError {
                // A newer photo or the Cancel button took over.
            } catch {
                phase = .failed(describe(error))
            }
        }
    }

    func cancelEncoding() {
        encoding?.cancel()
        photo = nil
        phase = .noPhoto
    }

    func apply(_ gesture: PhotoGesture) {
        guard phase == .ready else { return }
        history.apply(gesture)
        resegment()
    }

    func undo() {
        history.undo()
        resegment()
    }

    /// Segments the current prompt; a newer gesture cancels an older answer still in flight.
    private func resegment() {
        segmenting?.cancel()
        guard let prompt = history.current, let model, let embedding else {
            segmentation = nil
            overlay = nil
            return
        }
        segmenting = Task {
            do {
                let s: Segmentation = try await model.segmentAsync(embedding: embedding, prompt: prompt)
                guard !Task.isCancelled else { return }
                segmentation = s
                overlay = s.tintedImage(color: Self.tint)
            } catch {
                if !Task.isCancelled { phase = .failed(describe(error)) }
            }
        }
    }

    /// The cut-out to share, made when the share sheet asks for it (a PNG of a 12 MP photo takes
    /// a moment).
    var cutout: CutoutPNG? {
        guard let segmentation, let photo, segmentation.area > 0 else { return nil }
        return CutoutPNG(segmentation: segmentation, photo: photo)
    }
}

/// The selection cut out of the photo on transparency, cropped to the mask plus 8 pixels.
struct CutoutPNG: Transferable {
    let segmentation: Segmentation
    let photo: CGImage

    static var transferRepresentation: some TransferRepresentation {
        DataRepresentation(exportedContentType: .png) { item in
            let mask: SegmentMask = try SegmentMask.fromSegmentation(segmentation: item.segmentation)
            guard let cut = mask.cutout(photo: item.photo, cropPadding: 8),
                  let png = UIImage(cgImage: cut).pngData() else {
                throw EdgeSamError.BadMask(reason: "the cut-out could not be made")
            }
            return png
        }
        .suggestedFileName("cutout.png")
    }
}
