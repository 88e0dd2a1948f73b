using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests.DistributedMap;

/// <summary>ItemReader: objects and listings of the folder standing in for S3, as JSON, JSON Lines, CSV or an inventory.</summary>
public sealed class ItemReaderTests : IDisposable
{
    private readonly DistributedKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private static string Reader(string parameters, string readerConfig = "", string resource = "arn:aws:states:::s3:getObject") =>
        "\"ItemReader\":{\"Resource\":\"" + resource + "\",\"Parameters\":" + parameters + (readerConfig.Length > 0 ? ",\"ReaderConfig\":" + readerConfig : "") + "}";

    [Fact]
    public async Task A_JSON_array_object_s3_bucket_key_is_read_from_root_bucket_key()
    {
        _kit.Put("data", "in/items.json", """[{"a":1},{"a":2}]""");
        var output = await _kit.Output(DistributedKit.Map(Reader("""{"Bucket":"data","Key":"in/items.json"}""", """{"InputType":"JSON"}""")));
        JsonEqual("""[{"a":1},{"a":2}]""", output);
    }

    [Fact]
    public async Task Bucket_and_Key_may_come_from_the_input_through_paths()
    {
        _kit.Put("data", "x.json", "[1,2]");
        var output = await _kit.Output(DistributedKit.Map(Reader("""{"Bucket.$":"$.bucket","Key.$":"$.key"}""", """{"InputType":"JSON"}""")), """{"bucket":"data","key":"x.json"}""");
        JsonEqual("[1,2]", output);
    }

    [Fact]
    public async Task JSON_Lines_are_one_item_a_line()
    {
        _kit.Put("data", "items.jsonl", "{\"a\":1}\n{\"a\":2}\n\n");
        JsonEqual("""[{"a":1},{"a":2}]""", await _kit.Output(DistributedKit.Map(Reader("""{"Bucket":"data","Key":"items.jsonl"}""", """{"InputType":"JSONL"}"""))));
    }

    [Fact]
    public async Task CSV_with_the_header_in_the_first_row_gives_one_object_of_strings_a_row()
    {
        _kit.Put("data", "rows.csv", "id,name\r\n1,\"Smith, Ann\"\r\n2,\"say \"\"hi\"\"\"\r\n");
        var output = await _kit.Output(DistributedKit.Map(Reader("""{"Bucket":"data","Key":"rows.csv"}""", """{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"}""")));
        JsonEqual("""[{"id":"1","name":"Smith, Ann"},{"id":"2","name":"say \"hi\""}]""", output);
    }

    [Fact]
    public async Task CSV_with_given_headers_reads_the_first_row_as_data_and_honours_the_delimiter()
    {
        _kit.Put("data", "rows.psv", "1|a\n2|b\n");
        var output = await _kit.Output(DistributedKit.Map(Reader("""{"Bucket":"data","Key":"rows.psv"}""",
            """{"InputType":"CSV","CSVHeaderLocation":"GIVEN","CSVHeaders":["id","v"],"CSVDelimiter":"PIPE"}""")));
        JsonEqual("""[{"id":"1","v":"a"},{"id":"2","v":"b"}]""", output);
    }

    [Fact]
    public async Task ListObjectsV2_lists_the_objects_under_the_prefix_in_key_order()
    {
        _kit.Put("data", "shards/b.parquet", "bb");
        _kit.Put("data", "shards/a.parquet", "a");
        _kit.Put("data", "other/c.parquet", "c");
        var output = await _kit.Output(DistributedKit.Map(Reader("""{"Bucket":"data","Prefix":"shards/"}""", resource: "arn:aws:states:::s3:listObjectsV2")));
        var items = output!.AsArray();
        Assert.Equal(["shards/a.parquet", "shards/b.parquet"], items.Select(i => i!["Key"]!.GetValue<string>()));
        Assert.Equal(2, items[1]!["Size"]!.GetValue<long>());
        Assert.Equal("STANDARD", items[0]!["StorageClass"]!.GetValue<string>());
        Assert.StartsWith("\"", items[0]!["Etag"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_S3_inventory_manifest_yields_the_objects_its_gzipped_CSV_files_list()
    {
        var csv = new MemoryStream();
        using (var gzip = new GZipStream(csv, CompressionMode.Compress, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes("\"src\",\"k/1.txt\",\"10\"\n\"src\",\"k/2.txt\",\"20\"\n"));
        }

        var path = Path.Combine(_kit.Root, "inventory", "data", "part-0.csv.gz");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, csv.ToArray());
        _kit.Put("inventory", "manifest.json", """
            {"sourceBucket":"src","destinationBucket":"arn:aws:s3:::inventory","fileFormat":"CSV","fileSchema":"Bucket, Key, Size",
             "files":[{"key":"data/part-0.csv.gz","size":1,"MD5checksum":"x"}]}
            """);
        var output = await _kit.Output(DistributedKit.Map(Reader("""{"Bucket":"inventory","Key":"manifest.json"}""", """{"InputType":"MANIFEST"}""")));
        JsonEqual("""[{"Bucket":"src","Key":"k/1.txt","Size":"10"},{"Bucket":"src","Key":"k/2.txt","Size":"20"}]""", output);
    }

    [Fact]
    public async Task MaxItems_stops_reading_after_that_many_items()
    {
        _kit.Put("data", "items.json", "[1,2,3,4]");
        JsonEqual("[1,2]", await _kit.Output(DistributedKit.Map(Reader("""{"Bucket":"data","Key":"items.json"}""", """{"InputType":"JSON","MaxItems":2}"""))));
    }

    [Fact]
    public async Task MaxItemsPath_reads_the_limit_from_the_input()
    {
        _kit.Put("data", "items.csv", "n\n1\n2\n3\n");
        var output = await _kit.Output(DistributedKit.Map(Reader("""{"Bucket":"data","Key":"items.csv"}""", """{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW","MaxItemsPath":"$.max"}""")), """{"max":1}""");
        JsonEqual("""[{"n":"1"}]""", output);
    }

    [Fact]
    public async Task A_missing_object_fails_the_Map_with_States_ItemReaderFailed()
    {
        var execution = await _kit.Failed(DistributedKit.Map(Reader("""{"Bucket":"data","Key":"absent.json"}""", """{"InputType":"JSON"}""")));
        Assert.Equal(StatesErrors.ItemReaderFailed, execution.Error);
        Assert.Contains("NoSuchKey", execution.Cause, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_object_that_is_not_a_JSON_array_fails_with_States_ItemReaderFailed()
    {
        _kit.Put("data", "obj.json", """{"a":1}""");
        var execution = await _kit.Failed(DistributedKit.Map(Reader("""{"Bucket":"data","Key":"obj.json"}""", """{"InputType":"JSON"}""")));
        Assert.Equal(StatesErrors.ItemReaderFailed, execution.Error);
    }

    [Fact]
    public async Task A_key_that_climbs_out_of_its_bucket_is_refused()
    {
        _kit.Put("other", "secret.json", "[1]");
        var execution = await _kit.Failed(DistributedKit.Map(Reader("""{"Bucket":"data","Key":"../other/secret.json"}""", """{"InputType":"JSON"}""")));
        Assert.Equal(StatesErrors.ItemReaderFailed, execution.Error);
        Assert.Contains("'..'", execution.Cause, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_folder_standing_in_for_S3_the_reader_fails_and_says_which_option_is_missing()
    {
        var engine = new StepFunctionsEngine(new StepFunctionsEngineOptions { TimeProvider = new VirtualClock(Start) });
        var machine = engine.CreateStateMachine("m", DistributedKit.Map(Reader("""{"Bucket":"data","Key":"x.json"}""", """{"InputType":"JSON"}""")));
        var execution = await engine.RunAsync(machine, "{}");
        Assert.Equal(StatesErrors.ItemReaderFailed, execution.Error);
        Assert.Contains("LocalS3Root", execution.Cause, StringComparison.Ordinal);
    }
}
