using System.IO.Pipelines;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Cimef.Site.Storage;

namespace Cimef.Site.Reports;

/// <summary>
/// The response carrying a report file, for every route that serves one (the patient's page and API, a share, FHIR).
/// A plain GET (the common case: a phone downloading its report) is read from the store straight into the connection's
/// output, 16 KB at a time, each piece sent before the next is read. The framework's file result copies through a
/// 64 KB array and writes it into the output in one piece, so under the 200-patient load every download in flight held
/// 64 KB of pinned buffers plus a pooled array (about 13 MB of the working set, measured). A HEAD, a range or a
/// conditional request goes through the framework's file result, which answers 206, 304, 412 and 416 as it should.
/// </summary>
public sealed class ReportResponse(ReportStore.OpenedFile file, string contentType) : IResult, IActionResult
{
    public const int Piece = 16 * 1024;

    public Task ExecuteResultAsync(ActionContext context) => ExecuteAsync(context.HttpContext);

    public async Task ExecuteAsync(HttpContext http)
    {
        var request = http.Request;
        var headers = request.Headers;
        if (!HttpMethods.IsGet(request.Method) || headers.Range.Count > 0 || headers.IfRange.Count > 0 || headers.IfMatch.Count > 0
            || headers.IfNoneMatch.Count > 0 || headers.IfModifiedSince.Count > 0 || headers.IfUnmodifiedSince.Count > 0)
        {
            await Results.File(file.Content, contentType, lastModified: file.LastModified, enableRangeProcessing: true).ExecuteAsync(http);
            return;
        }

        var response = http.Response;
        await using var content = file.Content;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = contentType;
        response.ContentLength = file.Length;
        response.Headers.LastModified = HeaderUtilities.FormatDate(file.LastModified);
        response.Headers.AcceptRanges = "bytes";
        var output = response.BodyWriter;
        var left = file.Length;
        try
        {
            while (left > 0)
            {
                var memory = output.GetMemory(Piece);
                var read = await content.ReadAsync(memory[..(int)Math.Min(Math.Min(memory.Length, Piece), left)], http.RequestAborted);
                if (read == 0) break; // shorter than announced: the server ends the response as incomplete
                output.Advance(read);
                left -= read;
                var flushed = await output.FlushAsync(http.RequestAborted);
                if (flushed.IsCanceled || flushed.IsCompleted) break;
            }
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            http.Abort(); // the phone went away: nothing more to send
        }
    }
}
