using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Storage;

/// <summary>
/// Report files as objects of one S3 bucket (AWS, MinIO, any S3-compatible server), keys yyyy/MM/random.ext.
/// Save streams the upload: a file that fits in one part is sent by one PUT, a larger one by a multipart upload
/// (parts of Storage:Reports:S3:PartSizeMegabytes, the only memory held); SHA-256 is computed while streaming and,
/// once the object exists, verified again by reading it back, so the row commits only after a complete, verified object.
/// An unfinished multipart upload is invisible to readers; it is aborted on failure, and the start-up clean-up aborts
/// the ones older than the safe age (never a younger one: another node may be uploading it).
/// </summary>
public sealed class S3ReportStore : ReportStore, IDisposable
{
    private readonly IAmazonS3 _s3;
    private readonly string _bucket;
    private readonly int _partSize;
    private readonly TimeSpan _tempMaxAge;
    private readonly TimeProvider _time;
    private readonly ILogger<S3ReportStore> _log;

    public S3ReportStore(IOptions<StorageOptions> storage, TimeProvider time, ILogger<S3ReportStore> log)
    {
        var reports = storage.Value.Reports;
        var o = reports.S3;
        var config = new AmazonS3Config
        {
            ForcePathStyle = o.ForcePathStyle,
            // Self-hosted servers do not all know the SDK's default CRC trailers; SHA-256 is verified by the store itself.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            // An unreachable store fails the request quickly (one retry) rather than holding the upload for minutes.
            MaxErrorRetry = 1,
            Timeout = TimeSpan.FromSeconds(100),
        };
        if (!string.IsNullOrWhiteSpace(o.ServiceUrl))
        {
            config.ServiceURL = o.ServiceUrl;
            config.AuthenticationRegion = string.IsNullOrWhiteSpace(o.Region) ? "us-east-1" : o.Region;
        }
        else config.RegionEndpoint = RegionEndpoint.GetBySystemName(o.Region);
        _s3 = new AmazonS3Client(new BasicAWSCredentials(o.AccessKey, o.SecretKey), config);
        _bucket = o.Bucket!;
        _partSize = o.PartSizeMegabytes << 20;
        _tempMaxAge = TimeSpan.FromMinutes(reports.TempMaxAgeMinutes);
        _time = time;
        _log = log;
    }

    public override async Task<StoredFile> SaveAsync(Stream content, string extension, CancellationToken ct = default)
    {
        var key = NewName(_time.GetUtcNow().UtcDateTime, extension);
        var (size, hash) = await WriteAsync(key, content, ct);
        return new StoredFile(key, size, hash);
    }

    public override async Task PutAsync(string storedFileName, Stream content, CancellationToken ct = default) =>
        await WriteAsync(CheckName(storedFileName), content, ct);

    /// <summary>
    /// Parts are sent whole from memory with a signed payload hash (UseChunkEncoding = false): servers that do not
    /// decode aws-chunked bodies (s3rver) would otherwise store the chunk framing as content.
    /// </summary>
    private async Task<(long Size, string Sha256)> WriteAsync(string key, Stream content, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_partSize);
        try
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var filled = await FillAsync(content, buffer, sha, ct);
            long size = filled;
            if (filled < _partSize)
                await Call(() => _s3.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = key, InputStream = new MemoryStream(buffer, 0, filled, writable: false), AutoCloseStream = false, UseChunkEncoding = false }, ct));
            else
                size = await MultipartAsync(key, content, buffer, filled, sha, ct);
            var hash = Convert.ToHexStringLower(sha.GetHashAndReset());

            // Read back: the object the patients will get is complete and has the hash the row will record.
            string? stored;
            try
            {
                stored = await ComputeSha256Async(key, ct);
            }
            catch
            {
                await TryDeleteAsync(key);
                throw;
            }
            if (stored != hash)
            {
                await TryDeleteAsync(key);
                throw new UnavailableException($"Report object {key} does not match the uploaded bytes (SHA-256 {stored ?? "absent"}, expected {hash}).",
                    new InvalidDataException("SHA-256 mismatch after upload"));
            }
            return (size, hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<long> MultipartAsync(string key, Stream content, byte[] buffer, int filled, IncrementalHash sha, CancellationToken ct)
    {
        var upload = await Call(() => _s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = key }, ct));
        try
        {
            var parts = new List<PartETag>();
            long size = 0;
            while (filled > 0)
            {
                var number = parts.Count + 1;
                var part = await Call(() => _s3.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = _bucket, Key = key, UploadId = upload.UploadId, PartNumber = number,
                    InputStream = new MemoryStream(buffer, 0, filled, writable: false), PartSize = filled, UseChunkEncoding = false,
                }, ct));
                parts.Add(new PartETag(number, part.ETag));
                size += filled;
                filled = await FillAsync(content, buffer, sha, ct);
            }
            await Call(() => _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _bucket, Key = key, UploadId = upload.UploadId, PartETags = parts,
            }, ct));
            return size;
        }
        catch
        {
            await AbortAsync(key, upload.UploadId);
            throw;
        }
    }

    /// <summary>Reads until the buffer's part size is full or the stream ends; hashes what it read.</summary>
    private async Task<int> FillAsync(Stream content, byte[] buffer, IncrementalHash sha, CancellationToken ct)
    {
        var filled = 0;
        while (filled < _partSize)
        {
            var n = await content.ReadAsync(buffer.AsMemory(filled, _partSize - filled), ct);
            if (n == 0) break;
            sha.AppendData(buffer, filled, n);
            filled += n;
        }
        return filled;
    }

    private async Task AbortAsync(string key, string uploadId)
    {
        try
        {
            await _s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = uploadId });
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException)
        {
            // Invisible to readers either way; the start-up clean-up (or a bucket lifecycle rule) removes it later.
            Web.CimefMetrics.StorageError();
            _log.LogWarning(e, "Could not abort the multipart upload of {Key}.", key);
        }
    }

    public override async Task<OpenedFile?> OpenReadAsync(string storedFileName, CancellationToken ct = default)
    {
        var key = CheckName(storedFileName);
        try
        {
            var head = await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = key }, ct);
            var length = head.ContentLength;
            return new OpenedFile(new S3RangeStream(_s3, _bucket, key, length), length,
                new DateTimeOffset(DateTime.SpecifyKind(head.LastModified ?? DateTime.UnixEpoch, DateTimeKind.Utc)));
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException)
        {
            throw new UnavailableException("Object store unreachable: " + e.Message, e);
        }
    }

    public override Task DeleteAsync(string storedFileName, CancellationToken ct = default) =>
        Call(() => _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = CheckName(storedFileName) }, ct));

    private async Task TryDeleteAsync(string key)
    {
        try { await _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = key }); }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException)
        {
            Web.CimefMetrics.StorageError();
            _log.LogWarning(e, "Could not delete {Key}.", key);
        }
    }

    public override async IAsyncEnumerable<string> ListAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        string? token = null;
        do
        {
            var page = await Call(() => _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, ContinuationToken = token }, ct));
            foreach (var o in page.S3Objects ?? [])
                if (!o.Key.Split('/').Any(s => s.StartsWith('.'))) yield return o.Key;
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
    }

    public override async Task<int> CleanupTempFilesAsync(CancellationToken ct = default)
    {
        ListMultipartUploadsResponse uploads;
        try
        {
            uploads = await _s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = _bucket }, ct);
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.NotImplemented or HttpStatusCode.MethodNotAllowed || e.ErrorCode == "NotImplemented")
        {
            _log.LogInformation("The object store cannot list unfinished multipart uploads; rely on its lifecycle rule (AbortIncompleteMultipartUpload).");
            return 0;
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException)
        {
            // The site still starts (pages without report files work; downloads answer 503) and logs why.
            Web.CimefMetrics.StorageError();
            _log.LogError(e, "Object store unreachable at start: unfinished uploads were not cleaned up.");
            return 0;
        }
        var now = _time.GetUtcNow();
        var removed = 0;
        foreach (var u in uploads.MultipartUploads ?? [])
        {
            if (u.Initiated is not DateTime started || !IsAbandoned(DateTime.SpecifyKind(started, DateTimeKind.Utc), now, _tempMaxAge)) continue;
            await AbortAsync(u.Key, u.UploadId);
            removed++;
        }
        return removed;
    }

    /// <summary>Turns the SDK's transport and service errors into the store's <see cref="ReportStore.UnavailableException"/>.</summary>
    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try { return await call(); }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException)
        {
            throw new UnavailableException("Object store request failed: " + e.Message, e);
        }
    }

    private static async Task Call(Func<Task> call) => await Call(async () => { await call(); return true; });

    public void Dispose() => _s3.Dispose();

    /// <summary>
    /// A read-only, seekable view of one object: each read continues one ranged GET from the current position;
    /// a seek elsewhere closes it and the next read opens a new one. Range requests therefore fetch only their slice.
    /// </summary>
    private sealed class S3RangeStream(IAmazonS3 s3, string bucket, string key, long length) : Stream
    {
        private GetObjectResponse? _response;
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => Seek(value, SeekOrigin.Begin);
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            var target = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => _position + offset,
                _ => length + offset,
            };
            ArgumentOutOfRangeException.ThrowIfNegative(target);
            if (target != _position) Close(ref _response);
            _position = target;
            return _position;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_position >= length || buffer.Length == 0) return 0;
            if (_response is null)
            {
                try
                {
                    _response = await s3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = key, ByteRange = new ByteRange(_position, length - 1) }, ct);
                }
                catch (Exception e) when (e is AmazonServiceException or HttpRequestException)
                {
                    throw new UnavailableException("Object store read failed: " + e.Message, e);
                }
            }
            var n = await _response.ResponseStream.ReadAsync(buffer, ct);
            if (n == 0) throw new IOException($"Object {key} ended at byte {_position} of {length}.");
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) Close(ref _response);
            base.Dispose(disposing);
        }

        private static void Close(ref GetObjectResponse? response)
        {
            response?.Dispose();
            response = null;
        }
    }
}
