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
        case encoding(percent: Int)
        case ready
        case failed(String)
    }

    @Published private(set) var phase = Phase.noPhoto
    /// The photo as picked. Shown with its `imageOrientation` applied, which is also how it is
    /// encoded, so masks line up with it pixel for pixel.
    @Published private(set) var photo: UIImage?
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
    /// Which photo's encode the progress reports belong to: a cancelled encode's late reports
    /// must not move the next one's percentage.
    private var encodeNumber = 0

    func load(_ item: PhotosPickerItem) {
        encoding?.cancel()
        segmenting?.cancel()
        history.clear()
        segmentation = nil
        overlay = nil
        embedding = nil
        encodeNumber += 1
        let number = encodeNumber
        encoding = Task {
            do {
                // UIImage decodes HEIC too and keeps the EXIF orientation as imageOrientation;
                // encode(uiImage:) hands both to the library, which turns the pixels upright.
                guard let data = try await item.loadTransferable(type: Data.self), let image = UIImage(data: data) else {
                    throw EdgeSamError.BadImage(reason: "this photo could not be read")
                }
                photo = image
                phase = .encoding(percent: 0)
                let model: SegmentAnything = try await BundledModels.shared()
                self.model = model
                // Reports come from the library's worker thread: hop to the main actor to show them.
                let progress = ProgressHandler { [weak self] p in
                    let percent = percentDone(p)
                    Task { @MainActor in self?.showEncoding(percent, of: number) }
                }
                embedding = try await model.encode(uiImage: image, progress: progress)
                phase = .ready
            } catch is CancellationError {
                // A newer photo or the Cancel button took over.
            } catch {
                phase = .failed(describe(error))
            }
        }
    }

    private func showEncoding(_ percent: Int, of number: Int) {
        guard number == encodeNumber, case .encoding = phase else { return }
        phase = .encoding(percent: percent)
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
                let mask: SegmentMask = s.mask
                overlay = try mask.tintedImage()   // the library's default tint
            } catch {
                if !Task.isCancelled { phase = .failed(describe(error)) }
            }
        }
    }

    /// The cut-out to share, made when the share sheet asks for it (a PNG of a 12 MP photo takes
    /// a moment).
    var cutout: CutoutPNG? {
        guard let segmentation, let photo = photo?.cgImage, let orientation = self.photo?.imageOrientation,
              segmentation.mask.area() > 0 else { return nil }
        return CutoutPNG(mask: segmentation.mask, photo: photo, orientation: Orientation(orientation))
    }
}

/// The selection cut out of the photo on transparency, cropped to the mask plus 8 pixels.
struct CutoutPNG: Transferable {
    let mask: SegmentMask
    /// The photo's stored pixels and how they stand upright, exactly as they were encoded.
    let photo: CGImage
    let orientation: Orientation

    static var transferRepresentation: some TransferRepresentation {
        DataRepresentation(exportedContentType: .png) { item in
            let cut = try item.mask.cutout(photo: item.photo, orientation: item.orientation, cropPadding: 8)
            guard let image = cut.cgImage(), let png = UIImage(cgImage: image).pngData() else {
                throw EdgeSamError.BadMask(reason: "the cut-out could not be made")
            }
            return png
        }
        .suggestedFileName("cutout.png")
    }
}
